"""Batches in SQL: registration with its slots, closing, the report, and reading them back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.clock import stamp
from db.models import Batch, Essay, RetiredBatch, Submission
from db.outbox import add_event
from db.writes import insert_ignore
from els.errors import (
    BatchConflictError,
    ConflictError,
    EssayIdTakenError,
    InvalidInputError,
    InvalidTransitionError,
    NotFoundError,
)
from els.events import (
    BatchCancelled,
    BatchCancelledData,
    BatchClosed,
    BatchClosedData,
    BatchCompleted,
    BatchCompletedData,
    BatchExpired,
    BatchExpiredData,
    BatchRegistered,
    BatchRegisteredData,
    BatchSealed,
    BatchSealedData,
)
from els.jsontypes import JsonObject
from essays.lifecycle import BatchState, EssayState, advance_batch, advance_essay


@dataclass(frozen=True)
class BatchRecord:
    """A batch as registered: one slot per essay id, in order."""

    batch_id: str
    owner: str
    essay_ids: tuple[str, ...]
    language: str
    course_code: str | None
    deadline_at: datetime
    correlation_id: str
    metadata: JsonObject
    registered_at: datetime

    @property
    def expected_count(self) -> int:
        """How many essays the batch expects: one per slot."""
        return len(self.essay_ids)


@dataclass(frozen=True)
class StoredBatch:
    """A batch as SQL holds it now (the report is read separately: it can be large)."""

    record: BatchRecord
    state: BatchState
    closed_as: BatchState | None
    closed_at: datetime | None
    completed_at: datetime | None


def record_registration(session: Session, batch: BatchRecord) -> bool:
    """Store the batch and one AWAITING essay per slot; False when already stored.

    No event yet: Redis is the commit point, so `record_registration_confirmed` queues BatchRegistered
    once Redis has taken the batch. Raises EssayIdTakenError when an essay id belongs to another batch.
    """
    if not batch.essay_ids or len(set(batch.essay_ids)) != len(batch.essay_ids):
        raise InvalidInputError("a batch needs at least one essay id, each one distinct")
    existing = session.get(Batch, batch.batch_id)
    if existing is not None:
        _check_same_registration(existing, batch)
        return False
    if session.get(RetiredBatch, batch.batch_id) is not None:
        raise BatchConflictError(
            f"batch id {batch.batch_id} belonged to a batch that was purged; batch ids are never reused, "
            "so choose another",
            details={"batch_id": batch.batch_id},
        )
    taken = session.scalars(select(Essay.essay_id).where(Essay.essay_id.in_(batch.essay_ids))).all()
    if taken:
        raise _essay_ids_taken(batch, sorted(taken))
    if not insert_ignore(session, Batch, [_batch_row(batch)]):
        # A concurrent registration of the same batch committed first.
        _check_same_registration(_get_batch(session, batch.batch_id), batch)
        return False
    session.add_all(
        Essay(
            essay_id=essay_id,
            batch_id=batch.batch_id,
            position=position,
            state=EssayState.AWAITING.value,
            created_at=batch.registered_at,
            updated_at=batch.registered_at,
        )
        for position, essay_id in enumerate(batch.essay_ids)
    )
    try:
        session.flush()
    except IntegrityError as error:
        # A concurrent registration of another batch took one of these essay ids after our check.
        raise _essay_ids_taken(batch, []) from error
    return True


def record_registration_confirmed(session: Session, batch_id: str) -> bool:
    """Queue BatchRegistered for a stored batch Redis has taken; False when it is queued already."""
    batch = _record(_get_batch(session, batch_id))
    data = BatchRegisteredData(
        batch_id=batch.batch_id,
        owner=batch.owner,
        expected_count=batch.expected_count,
        essay_ids=list(batch.essay_ids),
        language=batch.language,
        course_code=batch.course_code,
        deadline_at=batch.deadline_at,
        metadata=batch.metadata,
    )
    # The event id is derived from the batch id, so a second confirmation inserts nothing.
    return add_event(
        session,
        BatchRegistered.create(data, correlation_id=batch.correlation_id, occurred_at=batch.registered_at),
    )


def _essay_ids_taken(batch: BatchRecord, taken: Sequence[str]) -> EssayIdTakenError:
    named = f": {', '.join(taken[:5])}" if taken else ""
    return EssayIdTakenError(
        f"essay ids already belong to another batch{named}",
        details={"batch_id": batch.batch_id, "taken": len(taken) or None},
    )


def record_batch_closed(
    session: Session,
    batch_id: str,
    kind: BatchState,
    missing_essay_ids: Sequence[str],
    at: datetime | None = None,
) -> bool:
    """Mirror the coordinator sealing, expiring or closing a batch: missing slots become MISSING, one event.

    CLOSED is a batch its owner closed early: like EXPIRED its missing slots are named, in `batch.closed`.
    """
    if kind not in (BatchState.SEALED, BatchState.EXPIRED, BatchState.CLOSED):
        raise InvalidInputError(f"a batch closes as sealed, expired or closed, not {kind.value}")
    if kind is BatchState.SEALED and missing_essay_ids:
        raise InvalidInputError("a sealed batch has every slot accounted for: nothing is missing")
    row = _get_batch(session, batch_id, for_update=True)
    if row.closed_as is not None:
        if row.closed_as != kind.value:
            raise InvalidTransitionError(
                f"batch {batch_id} was {row.closed_as}, it cannot also be {kind.value}",
                details={"from": row.closed_as, "to": kind.value},
            )
        return False
    advance_batch(BatchState(row.state), kind)
    closed_at = stamp(at)
    missing = _missing_essays(session, batch_id, missing_essay_ids)
    for essay in missing:
        advance_essay(EssayState(essay.state), EssayState.MISSING)
    for essay in missing:
        essay.state = EssayState.MISSING.value
        essay.updated_at = closed_at
    row.state = row.closed_as = kind.value
    row.closed_at = closed_at
    if kind is BatchState.SEALED:
        sealed = BatchSealedData(batch_id=batch_id, expected_count=row.expected_count, closed_at=closed_at)
        add_event(
            session, BatchSealed.create(sealed, correlation_id=row.correlation_id, occurred_at=closed_at)
        )
    elif kind is BatchState.CLOSED:
        closed = BatchClosedData(
            batch_id=batch_id,
            expected_count=row.expected_count,
            missing_essay_ids=[essay.essay_id for essay in missing],
            closed_at=closed_at,
        )
        add_event(
            session, BatchClosed.create(closed, correlation_id=row.correlation_id, occurred_at=closed_at)
        )
    else:
        expired = BatchExpiredData(
            batch_id=batch_id,
            expected_count=row.expected_count,
            missing_essay_ids=[essay.essay_id for essay in missing],
            closed_at=closed_at,
        )
        add_event(
            session, BatchExpired.create(expired, correlation_id=row.correlation_id, occurred_at=closed_at)
        )
    return True


def record_batch_cancelled(
    session: Session, batch_id: str, missing_essay_ids: Sequence[str], at: datetime | None = None
) -> bool:
    """Mirror the owner cancelling a batch: CANCELLED for good (no report), one `batch.cancelled`.

    Its unfilled slots become MISSING. False when it is mirrored already.
    """
    row = _get_batch(session, batch_id, for_update=True)
    if row.closed_as is not None:
        if row.closed_as != BatchState.CANCELLED.value:
            raise InvalidTransitionError(
                f"batch {batch_id} was {row.closed_as}, it cannot also be cancelled",
                details={"from": row.closed_as, "to": BatchState.CANCELLED.value},
            )
        return False
    advance_batch(BatchState(row.state), BatchState.CANCELLED)
    cancelled_at = stamp(at)
    missing = _missing_essays(session, batch_id, missing_essay_ids)
    for essay in missing:
        advance_essay(EssayState(essay.state), EssayState.MISSING)
    for essay in missing:
        essay.state = EssayState.MISSING.value
        essay.updated_at = cancelled_at
    row.state = row.closed_as = BatchState.CANCELLED.value
    # completed_at: a cancelled batch is finished, so retention and purge count from here.
    row.closed_at = row.completed_at = cancelled_at
    data = BatchCancelledData(
        batch_id=batch_id,
        expected_count=row.expected_count,
        missing_essay_ids=[essay.essay_id for essay in missing],
        cancelled_at=cancelled_at,
    )
    add_event(
        session, BatchCancelled.create(data, correlation_id=row.correlation_id, occurred_at=cancelled_at)
    )
    return True


def write_report(session: Session, batch_id: str, report: JsonObject, at: datetime | None = None) -> bool:
    """Store the final report, mark the batch DONE and emit BatchCompleted; False when already done."""
    row = _get_batch(session, batch_id, for_update=True)
    if not advance_batch(BatchState(row.state), BatchState.DONE):
        return False
    completed_at = stamp(at)
    row.state = BatchState.DONE.value
    row.report = report
    row.completed_at = completed_at
    data = BatchCompletedData(batch_id=batch_id, completed_at=completed_at, report=report)
    add_event(
        session, BatchCompleted.create(data, correlation_id=row.correlation_id, occurred_at=completed_at)
    )
    return True


def list_open_untouched(session: Session, deadline_before: datetime, limit: int) -> list[str]:
    """OPEN batches whose deadline is before `deadline_before` and that never took an upload."""
    uploaded = select(Submission.submission_id).where(Submission.batch_id == Batch.batch_id).exists()
    query = (
        select(Batch.batch_id)
        .where(Batch.state == BatchState.OPEN.value, Batch.deadline_at < deadline_before, ~uploaded)
        .order_by(Batch.deadline_at)
        .limit(limit)
    )
    return list(session.scalars(query))


def expire_unregistered(session: Session, batch_id: str, report: JsonObject, at: datetime) -> bool:
    """Close a batch Redis never took as EXPIRED, every slot missing, with its report and its events.

    Its `batch.registered` is queued first, so consumers see a whole lifecycle. False when the batch is no
    longer OPEN or has taken an upload meanwhile (then Redis knew it, and the coordinator decides).
    """
    row = _get_batch(session, batch_id, for_update=True)
    uploaded = session.scalar(
        select(Submission.submission_id).where(Submission.batch_id == batch_id).limit(1)
    )
    if row.state != BatchState.OPEN.value or uploaded is not None:
        return False
    record_registration_confirmed(session, batch_id)
    record_batch_closed(session, batch_id, BatchState.EXPIRED, tuple(row.essay_ids), at)
    return write_report(session, batch_id, report, at)


def load_batch(session: Session, batch_id: str) -> StoredBatch | None:
    """The stored batch, or None."""
    row = session.get(Batch, batch_id)
    if row is None:
        return None
    return StoredBatch(
        record=_record(row),
        state=BatchState(row.state),
        closed_as=None if row.closed_as is None else BatchState(row.closed_as),
        closed_at=row.closed_at,
        completed_at=row.completed_at,
    )


def owners_of_ids_ending(session: Session, suffix: str) -> list[str]:
    """The owners of the batches whose ids end with `suffix` (every batch, scanned: for operators)."""
    query = select(Batch.owner).where(Batch.batch_id.endswith(suffix, autoescape=True)).order_by(Batch.owner)
    return list(session.scalars(query))


def batch_language(session: Session, batch_id: str) -> str | None:
    """The language the batch's essays are analysed in, or None for no such batch."""
    return session.scalar(select(Batch.language).where(Batch.batch_id == batch_id))


def load_report(session: Session, batch_id: str) -> JsonObject | None:
    """The batch's final report, or None while it has none; raises NotFoundError for no batch."""
    return _get_batch(session, batch_id).report


def _get_batch(session: Session, batch_id: str, *, for_update: bool = False) -> Batch:
    row = session.get(Batch, batch_id, with_for_update=for_update, populate_existing=True)
    if row is None:
        raise NotFoundError(f"batch {batch_id} is not stored", details={"batch_id": batch_id})
    return row


def _missing_essays(session: Session, batch_id: str, essay_ids: Sequence[str]) -> list[Essay]:
    if not essay_ids:
        return []
    rows = session.scalars(
        select(Essay)
        .where(Essay.batch_id == batch_id, Essay.essay_id.in_(essay_ids))
        .order_by(Essay.position)
        .with_for_update()
    ).all()
    unknown = set(essay_ids) - {row.essay_id for row in rows}
    if unknown:
        raise InvalidInputError(
            f"not slots of batch {batch_id}: {', '.join(sorted(unknown)[:5])}",
            details={"batch_id": batch_id, "unknown": len(unknown)},
        )
    return list(rows)


def _check_same_registration(row: Batch, batch: BatchRecord) -> None:
    if row.owner != batch.owner or tuple(row.essay_ids) != batch.essay_ids:
        raise ConflictError(
            f"batch {batch.batch_id} is already registered differently", details={"batch_id": batch.batch_id}
        )


def _batch_row(batch: BatchRecord) -> dict[str, object]:
    return {
        "batch_id": batch.batch_id,
        "owner": batch.owner,
        "expected_count": batch.expected_count,
        "essay_ids": list(batch.essay_ids),
        "language": batch.language,
        "course_code": batch.course_code,
        "deadline_at": batch.deadline_at,
        "correlation_id": batch.correlation_id,
        "batch_metadata": batch.metadata,
        "state": BatchState.OPEN.value,
        "registered_at": batch.registered_at,
    }


def _record(row: Batch) -> BatchRecord:
    return BatchRecord(
        batch_id=row.batch_id,
        owner=row.owner,
        essay_ids=tuple(row.essay_ids),
        language=row.language,
        course_code=row.course_code,
        deadline_at=row.deadline_at,
        correlation_id=row.correlation_id,
        metadata=row.batch_metadata,
        registered_at=row.registered_at,
    )
