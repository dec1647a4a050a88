"""What owners may read: live batch status, listings, reports and essays, each checked against the owner.

Another owner's batch or essay is answered exactly like one that does not exist; an unreachable Redis
or database is NotReadyError, so a reader retries.
"""

from __future__ import annotations

from dataclasses import dataclass

from coordinator import BatchPage, BatchState, BatchStatus
from db.batches import load_batch, load_report
from db.essays import EssayRecord, list_batch_essays, load_essay
from db.session import unit_of_work
from els.errors import BatchNotDoneError, NotFoundError
from els.jsontypes import JsonObject
from services.bounds import check_plain_id
from services.outages import outage_as_not_ready
from services.runtime import Runtime


@dataclass(frozen=True)
class BatchView:
    """A batch as its owner sees it: live state from Redis, each slot's essay from SQL."""

    status: BatchStatus
    essays: list[EssayRecord]


@outage_as_not_ready
def batch_view(runtime: Runtime, owner: str, batch_id: str) -> BatchView:
    """The owner's live batch; NotFoundError for an unknown or another owner's batch."""
    status = _owned_status(runtime, owner, batch_id)
    with unit_of_work(runtime.engine, read_only=True) as session:
        essays = list_batch_essays(session, batch_id)
    return BatchView(status, essays)


@outage_as_not_ready
def list_batches(runtime: Runtime, owner: str, cursor: str | None, limit: int) -> BatchPage:
    """A page of the owner's batches that are not DONE yet."""
    return runtime.coordinator.list_active_batches(owner, cursor, limit)


@outage_as_not_ready
def batch_report(runtime: Runtime, owner: str, batch_id: str) -> JsonObject:
    """The final report of the owner's DONE batch; BatchNotDoneError naming the state before that."""
    check_plain_id("batch_id", batch_id)
    with unit_of_work(runtime.engine, read_only=True) as session:
        stored = load_batch(session, batch_id)
        done = stored is not None and stored.state is BatchState.DONE
        report = load_report(session, batch_id) if done else None
    if stored is None or stored.record.owner != owner:
        raise _not_found(batch_id)
    if report is None:
        live = runtime.coordinator.progress(batch_id)
        current = stored.state.value if live is None else live.state.value
        raise BatchNotDoneError(
            f"batch {batch_id} is {current}; its report is ready once it is done",
            details={"batch_id": batch_id, "state": current},
        )
    return report


@outage_as_not_ready
def owned_essay(runtime: Runtime, owner: str, essay_id: str) -> EssayRecord:
    """The essay, if its batch is the owner's; NotFoundError otherwise."""
    check_plain_id("essay_id", essay_id)
    with unit_of_work(runtime.engine, read_only=True) as session:
        essay = load_essay(session, essay_id)
        batch = None if essay is None else load_batch(session, essay.batch_id)
    if essay is None or batch is None or batch.record.owner != owner:
        raise NotFoundError(f"essay {essay_id} not found", details={"essay_id": essay_id})
    return essay


def _owned_status(runtime: Runtime, owner: str, batch_id: str) -> BatchStatus:
    check_plain_id("batch_id", batch_id)
    status = runtime.coordinator.status(batch_id)
    if status is None or status.owner != owner:
        raise _not_found(batch_id)
    return status


def _not_found(batch_id: str) -> NotFoundError:
    return NotFoundError(f"batch {batch_id} not found", details={"batch_id": batch_id})
