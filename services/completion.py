"""Closing a batch (sealed, expired, closed or cancelled) in SQL and planning its analysis."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from coordinator import BatchState, BatchStatus, Outcome
from db.batches import load_batch, record_batch_cancelled, record_batch_closed
from db.essays import finished_essay_ids
from db.session import unit_of_work
from db.submissions import list_unsettled_submissions
from els.errors import NotFoundError
from els.logs import log_context
from services.relay import request_relay
from services.runtime import Runtime

_CLOSED_KINDS = (BatchState.SEALED, BatchState.EXPIRED, BatchState.CLOSED, BatchState.CANCELLED)


@dataclass(frozen=True)
class CompletionPlan:
    """What the completion chord runs: one analysis per assigned essay, then the finalizer."""

    batch_id: str
    essay_ids: tuple[str, ...]
    done: bool  # already DONE: nothing to dispatch


def plan_completion(runtime: Runtime, batch_id: str) -> CompletionPlan:
    """Mirror the closed batch into SQL (idempotent) and list the essays to analyse."""
    status = runtime.coordinator.status(batch_id)
    if status is None:
        raise NotFoundError(f"batch {batch_id} is not live in Redis")
    if status.state is BatchState.OPEN:
        raise NotFoundError(f"batch {batch_id} is still open; nothing to complete")
    if status.state is BatchState.DONE:
        return CompletionPlan(batch_id, (), done=True)
    closed_as = status.closed_as or status.state
    kind = closed_as if closed_as in _CLOSED_KINDS else BatchState.SEALED
    with unit_of_work(runtime.engine) as session:
        if load_batch(session, batch_id) is None:
            raise NotFoundError(f"batch {batch_id} has no SQL record")
        if kind is BatchState.CANCELLED:
            record_batch_cancelled(session, batch_id, status.missing_essay_ids, at=closed_at(status))
        else:
            record_batch_closed(session, batch_id, kind, status.missing_essay_ids, at=closed_at(status))
        # Most slots were analysed when they were claimed: the chord analyses only the rest.
        finished = finished_essay_ids(session, batch_id)
    if kind is BatchState.CANCELLED:
        # No analysis and no report: the finalizer only moves the batch to DONE in Redis.
        return CompletionPlan(batch_id, (), done=False)
    assigned = tuple(
        record.essay_id
        for record in status.records
        if record.outcome is Outcome.ASSIGNED and record.essay_id not in finished
    )
    return CompletionPlan(batch_id, assigned, done=False)


def closed_at(status: BatchStatus) -> datetime | None:
    """When Redis closed the batch, for its SQL record and event (SQL may mirror it much later).

    A batch closed before Redis kept `closed_ms` has its state change time while still SEALED or EXPIRED,
    and no close time of its own (None: now) once finalizing moved that on.
    """
    closed_ms = status.closed_ms
    if closed_ms is None and status.state in _CLOSED_KINDS:
        closed_ms = status.state_changed_ms
    return None if closed_ms is None else datetime.fromtimestamp(closed_ms / 1000, UTC)


def complete_batch(runtime: Runtime, batch_id: str) -> None:
    """Mirror a closed batch into SQL, then dispatch its analyses and finalizer (nothing once DONE)."""
    with log_context(batch_id=batch_id):
        plan = plan_completion(runtime, batch_id)
        request_relay(runtime)
        # One dispatch of the analyses per turn: every duplicate upload that settles into a closed
        # batch asks for completion, and each would otherwise queue the whole batch's analyses again.
        hold_ms = runtime.settings.stuck_after_seconds * 800  # lapsed by the time the sweep re-kicks
        if not plan.done and runtime.coordinator.take_completion_turn(batch_id, hold_ms):
            runtime.dispatcher.analyse_then_finalize(batch_id, plan.essay_ids)


def follow_registration(runtime: Runtime, batch_id: str, correlation_id: str) -> None:
    """After a registration replayed parked outcomes: process those submissions again, complete if closed."""
    with log_context(batch_id=batch_id, correlation_id=correlation_id):
        with unit_of_work(runtime.engine, read_only=True) as session:
            unsettled = list_unsettled_submissions(session, batch_id)
        for submission_id in unsettled:
            runtime.dispatcher.process(batch_id, submission_id, correlation_id)
        live = runtime.coordinator.progress(batch_id)  # the state only: no slot is read
        if live is not None and live.state in _CLOSED_KINDS:
            # Only the registration saw `sealed`; a second dispatch is harmless (finalize is a CAS).
            runtime.dispatcher.complete(batch_id)
