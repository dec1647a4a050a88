"""Ending a batch early, by its owner: close (sealed now, report as usual) or cancel (no report).

Each is one Lua script (close.lua, cancel.lua), the commit point: exactly one call changes the batch,
and every repeat answers the same result. The completion is dispatched on every answer that finds the
batch ended this way and not DONE yet (dispatching is safe to repeat), before anything else can fail; the
batch also waits in the coordinator's stuck index, so the sweep re-kicks a completion that went missing.
Another owner's batch is answered exactly like one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from coordinator import BatchState, EndResult
from db.batches import load_batch
from db.essays import list_batch_essays
from db.session import unit_of_work
from els.errors import BatchNotOpenError, NotFoundError
from els.ids import public_id
from els.logs import log_context
from essays.lifecycle import EssayState
from services.bounds import owned_id
from services.outages import outage_as_not_ready
from services.runtime import Runtime


@dataclass(frozen=True)
class EndedBatch:
    """A batch its owner closed or cancelled; `replayed` when an earlier call did it."""

    batch_id: str
    state: BatchState  # CLOSED or CANCELLED: how the owner ended it
    current_state: BatchState  # where it is now (finalizing and done follow)
    replayed: bool
    missing_essay_ids: tuple[str, ...]
    closed_at: datetime | None


@outage_as_not_ready
def close_batch(runtime: Runtime, owner: str, batch_id: str) -> EndedBatch:
    """Close the owner's OPEN batch now: it seals with its missing slots named and goes on to its report.

    NotFoundError for an unknown or another owner's batch; BatchNotOpenError when it ended another way.
    """
    key = owned_id(owner, "batch_id", batch_id)
    with log_context(batch_id=key):
        result = runtime.coordinator.close(key, owner)
        return _answer(runtime, owner, result, BatchState.CLOSED)


@outage_as_not_ready
def cancel_batch(runtime: Runtime, owner: str, batch_id: str) -> EndedBatch:
    """Cancel the owner's OPEN batch: no analysis, no report, no more uploads; `batch.cancelled` once."""
    key = owned_id(owner, "batch_id", batch_id)
    with log_context(batch_id=key):
        result = runtime.coordinator.cancel(key, owner)
        return _answer(runtime, owner, result, BatchState.CANCELLED)


def _answer(runtime: Runtime, owner: str, result: EndResult, kind: BatchState) -> EndedBatch:
    # What the owner reads names the batch and its essays by their public ids.
    key = result.batch_id
    batch_id = public_id(key)
    if not result.found:
        # Redis forgot it (done, and past retention): SQL still knows how it ended.
        return _from_sql(runtime, owner, key, kind)
    if not result.ended:
        state = result.state or BatchState.DONE
        raise BatchNotOpenError(
            f"batch {batch_id} is {state.value} and can no longer be {kind.value}",
            details={"batch_id": batch_id, "state": state.value},
        )
    current = result.state or kind
    if current is not BatchState.DONE:
        runtime.dispatcher.complete(key)
    live = runtime.coordinator.progress(key)  # its close time only: one HMGET, no slot read
    closed_ms = None if live is None else live.closed_ms
    return EndedBatch(
        batch_id=batch_id,
        state=kind,
        current_state=current,
        replayed=result.replayed,
        missing_essay_ids=tuple(public_id(essay_id) for essay_id in result.missing_essay_ids),
        closed_at=None if closed_ms is None else _at(closed_ms),
    )


def _from_sql(runtime: Runtime, owner: str, key: str, kind: BatchState) -> EndedBatch:
    batch_id = public_id(key)
    with unit_of_work(runtime.engine, read_only=True) as session:
        stored = load_batch(session, key)
        essays = list_batch_essays(session, key) if stored is not None else []
    if stored is None or stored.record.owner != owner:
        raise NotFoundError(f"batch {batch_id} not found", details={"batch_id": batch_id})
    if stored.closed_as is not kind:
        state = stored.state
        raise BatchNotOpenError(
            f"batch {batch_id} is {state.value} and can no longer be {kind.value}",
            details={"batch_id": batch_id, "state": state.value},
        )
    missing = tuple(public_id(essay.essay_id) for essay in essays if essay.state is EssayState.MISSING)
    return EndedBatch(batch_id, kind, stored.state, True, missing, stored.closed_at)


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)
