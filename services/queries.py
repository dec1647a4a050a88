"""What owners may read: live batch counts, listings, reports and essays, each checked against the owner.

Another owner's batch or essay is answered exactly like one that does not exist; an unreachable Redis
or database is NotReadyError, so a reader retries.
"""

from __future__ import annotations

from dataclasses import replace

from coordinator import BatchPage, BatchProgress, BatchState
from db.batches import load_batch, load_report, owners_of_ids_ending
from db.essays import EssayRecord, load_essay
from db.session import unit_of_work
from els.errors import BatchNotDoneError, InvalidInputError, NotFoundError
from els.ids import SEPARATOR, public_id, public_object
from els.jsontypes import JsonObject
from services.bounds import check_plain_id, owned_id
from services.outages import outage_as_not_ready
from services.runtime import Runtime


@outage_as_not_ready
def list_batches(runtime: Runtime, owner: str, cursor: str | None, limit: int) -> BatchPage:
    """A page of the owner's batches that are not DONE yet, by their public ids."""
    page = runtime.coordinator.list_active_batches(owner, cursor, limit)
    return replace(
        page, batches=tuple(replace(line, batch_id=public_id(line.batch_id)) for line in page.batches)
    )


@outage_as_not_ready
def batch_report(runtime: Runtime, owner: str, batch_id: str) -> JsonObject:
    """The final report of the owner's DONE batch; BatchNotDoneError naming the state before that."""
    key = owned_id(owner, "batch_id", batch_id)
    with unit_of_work(runtime.engine, read_only=True) as session:
        stored = load_batch(session, key)
        done = stored is not None and stored.state is BatchState.DONE
        report = load_report(session, key) if done else None
    if stored is None or stored.record.owner != owner:
        raise NotFoundError(f"batch {batch_id} not found", details={"batch_id": batch_id})
    if report is None:
        live = runtime.coordinator.progress(key)
        current = stored.state.value if live is None else live.state.value
        raise BatchNotDoneError(
            f"batch {batch_id} is {current}; its report is ready once it is done",
            details={"batch_id": batch_id, "state": current},
        )
    return public_object(report, owner)


@outage_as_not_ready
def owned_essay(runtime: Runtime, owner: str, essay_id: str) -> EssayRecord:
    """The essay, if its batch is the owner's, by its public ids; NotFoundError otherwise."""
    key = owned_id(owner, "essay_id", essay_id)
    with unit_of_work(runtime.engine, read_only=True) as session:
        essay = load_essay(session, key)
        batch = None if essay is None else load_batch(session, essay.batch_id)
    if essay is None or batch is None or batch.record.owner != owner:
        raise NotFoundError(f"essay {essay_id} not found", details={"essay_id": essay_id})
    return replace(essay, essay_id=essay_id, batch_id=public_id(essay.batch_id))


def owned_progress(runtime: Runtime, owner: str, batch_id: str) -> BatchProgress | None:
    """The live counts of the owner's batch; None once Redis no longer holds it."""
    return runtime.coordinator.progress(owned_id(owner, "batch_id", batch_id))


@outage_as_not_ready
def owner_of_batch(runtime: Runtime, batch_id: str, owner: str | None = None) -> str:
    """Whose batch `batch_id` is, for operators' tools that name a batch by its public id alone.

    NotFoundError when no owner has it; InvalidInputError, asking for the owner, when several do.
    """
    check_plain_id("batch_id", batch_id)
    if owner is not None:
        return owner  # what is done with the batch next checks it is this owner's
    with unit_of_work(runtime.engine, read_only=True) as session:
        owners = owners_of_ids_ending(session, SEPARATOR + batch_id)
    if not owners:
        raise NotFoundError(f"batch {batch_id} not found", details={"batch_id": batch_id})
    if len(owners) > 1:
        raise InvalidInputError(
            f"{len(owners)} owners have a batch {batch_id}: say whose with --owner",
            details={"batch_id": batch_id, "owners": len(owners)},
        )
    return owners[0]
