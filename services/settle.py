"""Settling a processed submission against its batch: claim a slot, or record a final failure.

Redis decides (one Lua script: the commit point); SQL then mirrors the decision idempotently, so a
redelivered settle gets the same answer from Redis and writes nothing twice.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from coordinator import BatchState, Outcome, SlotResult, now_ms
from db.claims import (
    displace_slot_holder,
    record_duplicate,
    record_excess,
    record_failure,
    record_slot_assigned,
)
from db.session import unit_of_work
from els import metrics
from els.errors import FailureCode, RetryLaterError
from els.logs import log_context
from services.outcomes import ProcessOutcome
from services.relay import request_relay
from services.runtime import Runtime

log = logging.getLogger(__name__)

PROCESSING_FAILED = FailureCode.PROCESSING_FAILED.value


def settle(runtime: Runtime, outcome: ProcessOutcome) -> SlotResult:
    """Claim a slot for processed content or record a rejection; `sealed` means: fire completion."""
    coordinator = runtime.coordinator
    if outcome.kind == "processed" and outcome.content_hash is not None:
        result = coordinator.claim(
            outcome.batch_id, outcome.submission_id, outcome.content_hash, "{}", now_ms()
        )
    else:
        code = outcome.code or PROCESSING_FAILED
        result = coordinator.fail(
            outcome.batch_id, outcome.submission_id, code, outcome.detail or "", now_ms()
        )
    if result.outcome is Outcome.PENDING_FULL:
        raise RetryLaterError(f"batch {outcome.batch_id} is not registered and its parking is full")
    with unit_of_work(runtime.engine) as session:
        displaced = apply_slot_result(session, result, outcome.code, outcome.detail)
    if displaced is not None:
        log.warning("Redis lost the claim of submission %s; it claims again", displaced)
        runtime.dispatcher.process(outcome.batch_id, displaced, outcome.correlation_id)
    if result.sealed:
        closed_by = metrics.EXPIRIES if result.state is BatchState.EXPIRED else metrics.SEALS
        closed_by.inc()
    if not result.replayed:
        metrics.CLAIMS.labels(outcome=result.outcome.value).inc()
        if result.outcome is Outcome.FAILED and outcome.code:
            metrics.FAILURES.labels(code=outcome.code).inc()
    log.info("submission settled as %s (essay %s)", result.outcome.value, result.essay_id)
    return result


def apply_slot_result(
    session: Session, result: SlotResult, code: str | None, detail: str | None
) -> str | None:
    """Mirror one coordinator decision into SQL; a repeat writes nothing.

    Returns the submission SQL had in the slot when Redis, which lost that claim, handed the slot on.
    """
    displaced = None
    if result.essay_id is not None and result.outcome in (Outcome.ASSIGNED, Outcome.FAILED):
        displaced = displace_slot_holder(session, result.submission_id, result.essay_id)
    if result.outcome is Outcome.ASSIGNED and result.essay_id is not None:
        record_slot_assigned(session, result.submission_id, result.essay_id)
    elif result.outcome is Outcome.DUPLICATE and result.essay_id is not None:
        record_duplicate(session, result.submission_id, result.essay_id)
    elif result.outcome is Outcome.FAILED:
        record_failure(
            session, result.submission_id, result.essay_id, code or PROCESSING_FAILED, detail or ""
        )
    elif result.outcome is Outcome.EXCESS:
        if code is None:
            record_excess(session, result.submission_id)
        else:
            record_failure(session, result.submission_id, None, code, detail or "")
    # PENDING / PENDING_FULL: the batch is not registered in Redis yet; registration replays it.
    return displaced


def settle_and_dispatch(runtime: Runtime, outcome: ProcessOutcome) -> None:
    """Settle one outcome; the one caller that sealed the batch dispatches its completion."""
    with log_context(
        batch_id=outcome.batch_id, submission_id=outcome.submission_id, correlation_id=outcome.correlation_id
    ):
        result = settle(runtime, outcome)
        request_relay(runtime)
        if result.sealed:
            runtime.dispatcher.complete(outcome.batch_id)
