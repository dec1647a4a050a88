"""Settling a processed submission against its batch: claim a slot, or record a final failure.

Redis decides (one Lua script: the commit point); SQL then mirrors the decision idempotently, so a
redelivered settle gets the same answer from Redis and writes nothing twice. SQL mirrors what Redis
replied, never what this attempt brought: a failure keeps the code and detail Redis recorded first.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from coordinator import BatchState, Outcome, SlotResult
from db.claims import (
    displace_slot_holder,
    record_duplicate,
    record_excess,
    record_failure,
    record_slot_assigned,
)
from db.essays import record_claimed_analysis
from db.session import unit_of_work
from db.submissions import record_first_result
from els import metrics
from els.errors import FailureCode, RetryLaterError
from els.jsontypes import JsonObject
from els.logs import log_context
from services.analysis import analyse_claimed_text
from services.outcomes import ProcessOutcome
from services.relay import request_relay
from services.runtime import Runtime

log = logging.getLogger(__name__)

PROCESSING_FAILED = FailureCode.PROCESSING_FAILED.value

CLOSED = (BatchState.SEALED, BatchState.EXPIRED, BatchState.CLOSED, BatchState.CANCELLED)


def decide(runtime: Runtime, outcome: ProcessOutcome) -> SlotResult:
    """Ask Redis for this outcome's slot (or its replay); nothing is written to SQL."""
    coordinator = runtime.coordinator
    if outcome.kind == "processed" and outcome.content_hash is not None:
        result = coordinator.claim(outcome.batch_id, outcome.submission_id, outcome.content_hash)
    else:
        code = outcome.code or PROCESSING_FAILED
        result = coordinator.fail(outcome.batch_id, outcome.submission_id, code, outcome.detail or "")
    if result.outcome is Outcome.PENDING_FULL:
        raise RetryLaterError(f"batch {outcome.batch_id} is not registered and its parking is full")
    if result.sealed:
        closed_by = metrics.EXPIRIES if result.state is BatchState.EXPIRED else metrics.SEALS
        closed_by.inc()
    if not result.replayed:
        metrics.CLAIMS.labels(outcome=result.outcome.value).inc()
        if result.outcome is Outcome.FAILED and result.code:
            metrics.FAILURES.labels(code=result.code).inc()
    log.info("submission settled as %s (essay %s)", result.outcome.value, result.essay_id)
    return result


def analysis_for(outcome: ProcessOutcome, result: SlotResult) -> JsonObject | None:
    """The analysis of a text Redis just gave a slot, done before the settle's transaction begins, so the
    slot is recorded analysed and the completion chord only aggregates; None for anything else."""
    if result.outcome is not Outcome.ASSIGNED or outcome.text is None or outcome.language is None:
        return None
    return analyse_claimed_text(outcome.text, outcome.language)


def mirror(
    runtime: Runtime, outcome: ProcessOutcome, result: SlotResult, analysis: JsonObject | None = None
) -> None:
    """Mirror one Redis decision into SQL in one transaction, with the processed text, metrics and
    analysis the outcome brought; a repeat writes nothing.

    The essay's one unit of work after processing: its text, its slot outcome, its analysis and their
    outbox rows commit together. A crash before it leaves the submission unprocessed in SQL, so the redelivery
    processes it again and Redis replays the same slot. When Redis handed on a slot SQL gave another
    submission, Redis lost that claim (its last writes before a crash or failover): the displaced
    submission is processed again, to claim anew.
    """
    with unit_of_work(runtime.engine) as session:
        text, content_hash = outcome.text, outcome.content_hash
        # A fresh result is stored with its slot; a recorded failure keeps no text.
        if text is not None and content_hash is not None and result.outcome is not Outcome.FAILED:
            record_first_result(session, outcome.submission_id, text, content_hash, outcome.metrics or {})
        displaced = apply_slot_result(session, result)
        if analysis is not None and result.essay_id is not None:
            record_claimed_analysis(session, result.essay_id, outcome.submission_id, analysis)
    if displaced is not None:
        log.warning("Redis lost the claim of submission %s; it claims again", displaced)
        runtime.dispatcher.process(result.batch_id, displaced, outcome.correlation_id)


def settle(runtime: Runtime, outcome: ProcessOutcome) -> SlotResult:
    """Claim a slot for processed content or record a rejection, then mirror it; dispatches nothing."""
    result = decide(runtime, outcome)
    mirror(runtime, outcome, result, analysis_for(outcome, result))
    return result


def apply_slot_result(session: Session, result: SlotResult) -> str | None:
    """Mirror one coordinator decision into SQL; a repeat writes nothing. Returns a displaced submission.

    Excess is one thing everywhere: an arrival after the batch closed that took no slot, whether its
    upload was valid or not (Redis counts both in `excess`), so SQL records both as EXCESS.
    """
    displaced = None
    if result.essay_id is not None and result.outcome in (Outcome.ASSIGNED, Outcome.FAILED):
        displaced = displace_slot_holder(session, result.submission_id, result.essay_id)
    if result.outcome is Outcome.ASSIGNED and result.essay_id is not None:
        record_slot_assigned(session, result.submission_id, result.essay_id)
    elif result.outcome is Outcome.DUPLICATE and result.essay_id is not None:
        record_duplicate(session, result.submission_id, result.essay_id)
    elif result.outcome is Outcome.FAILED:
        code = result.code or PROCESSING_FAILED
        record_failure(session, result.submission_id, result.essay_id, code, result.detail or "")
    elif result.outcome is Outcome.EXCESS:
        record_excess(session, result.submission_id)
    # PENDING / PENDING_FULL: the batch is not registered in Redis yet; registration replays it.
    return displaced


def settle_and_dispatch(runtime: Runtime, outcome: ProcessOutcome) -> None:
    """Settle one outcome; whenever Redis answers that the batch is closed, dispatch its completion.

    Not only the one caller told `sealed`: that answer is given once, and a retry of the sealing call
    (its SQL mirror failed, or the relay request after it) only replays the claim, so a replay that
    finds the batch closed dispatches too. Dispatching is safe to repeat (finalizing is a
    compare-and-set), so it comes first, before anything else that can raise. A late upload that is
    merely excess dispatches nothing: the sweep re-kicks a batch whose completion went missing.
    """
    with log_context(
        batch_id=outcome.batch_id, submission_id=outcome.submission_id, correlation_id=outcome.correlation_id
    ):
        result = decide(runtime, outcome)
        if result.state in CLOSED and (result.sealed or result.replayed):
            runtime.dispatcher.complete(outcome.batch_id)
        mirror(runtime, outcome, result, analysis_for(outcome, result))
        request_relay(runtime)
