"""Purging finished batches: every row they own goes, in dependency order, nothing else does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, Select, delete, func, select
from sqlalchemy.orm import Session

from db.clock import stamp
from db.models import Base, Batch, Content, Essay, Failure, OutboxEvent, RetiredBatch, Submission, UploadBlob
from db.session import unit_of_work
from db.writes import affected_rows, insert_ignore
from essays.lifecycle import BatchState

CHUNK = 500


@dataclass(frozen=True)
class PurgeReport:
    """How many rows of each kind a purge removed (or, in a dry run, would remove)."""

    batches: int
    essays: int
    submissions: int
    failures: int
    events: int
    contents: int
    dry_run: bool
    uploads: int = 0
    # The blob keys of the purged uploads: the caller deletes them once this purge has committed.
    blob_keys: tuple[str, ...] = ()


def purge_finished(
    target: Session | Engine,
    older_than: timedelta,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
) -> PurgeReport:
    """Remove DONE and CANCELLED batches finished more than `older_than` ago, their rows and published events.

    Texts and uploads are removed only when no remaining submission refers to them; unpublished and
    parked events stay for the relay and for operators. The uploads' bytes are the caller's to delete
    from the blob store, after the commit (`services/retention.py`): the report lists their keys.
    """
    if isinstance(target, Engine):
        with unit_of_work(target) as session:
            return _purge(session, stamp(now) - older_than, dry_run)
    return _purge(target, stamp(now) - older_than, dry_run)


def _purge(session: Session, cutoff: datetime, dry_run: bool) -> PurgeReport:
    batch_ids = select(Batch.batch_id).where(
        Batch.state.in_((BatchState.DONE.value, BatchState.CANCELLED.value)), Batch.completed_at < cutoff
    )
    orphans = _orphaned_contents(session, batch_ids)
    lost_uploads = _orphaned_uploads(session, batch_ids)
    # Children before parents: failures -> essays -> submissions -> batches, then unreferenced contents.
    steps: list[tuple[type[Base], ColumnElement[bool]]] = [
        (Failure, Failure.batch_id.in_(batch_ids)),
        (Essay, Essay.batch_id.in_(batch_ids)),
        (Submission, Submission.batch_id.in_(batch_ids)),
        (OutboxEvent, OutboxEvent.aggregate_id.in_(batch_ids) & OutboxEvent.published_at.is_not(None)),
    ]
    counts = [_remove(session, model, where, dry_run) for model, where in steps]
    if not dry_run:
        # A purged id is retired for good: a new batch under it would reuse every event id of the old one.
        at = stamp(None)
        retired = [{"batch_id": batch_id, "retired_at": at} for batch_id in session.scalars(batch_ids)]
        insert_ignore(session, RetiredBatch, retired)
    batches = _remove(session, Batch, Batch.batch_id.in_(batch_ids), dry_run)
    contents = len(orphans)
    if not dry_run:
        for start in range(0, len(orphans), CHUNK):
            session.execute(delete(Content).where(Content.sha256.in_(orphans[start : start + CHUNK])))
        hashes = [sha256 for sha256, _ in lost_uploads]
        for start in range(0, len(hashes), CHUNK):
            session.execute(delete(UploadBlob).where(UploadBlob.sha256.in_(hashes[start : start + CHUNK])))
    failures, essays, submissions, events = counts
    return PurgeReport(
        batches=batches,
        essays=essays,
        submissions=submissions,
        failures=failures,
        events=events,
        contents=contents,
        dry_run=dry_run,
        uploads=len(lost_uploads),
        blob_keys=() if dry_run else tuple(key for _, key in lost_uploads),
    )


def _orphaned_contents(session: Session, batch_ids: Select[str]) -> list[str]:
    purged = select(Submission.text_sha256).where(
        Submission.batch_id.in_(batch_ids), Submission.text_sha256.is_not(None)
    )
    kept = select(Submission.text_sha256).where(
        Submission.batch_id.not_in(batch_ids), Submission.text_sha256.is_not(None)
    )
    rows = session.scalars(
        select(Content.sha256).where(Content.sha256.in_(purged), Content.sha256.not_in(kept))
    )
    return list(rows)


def _orphaned_uploads(session: Session, batch_ids: Select[str]) -> list[tuple[str, str]]:
    purged = select(Submission.upload_sha256).where(Submission.batch_id.in_(batch_ids))
    kept = select(Submission.upload_sha256).where(Submission.batch_id.not_in(batch_ids))
    rows = session.execute(
        select(UploadBlob.sha256, UploadBlob.blob_key).where(
            UploadBlob.sha256.in_(purged), UploadBlob.sha256.not_in(kept)
        )
    )
    return [(sha256, key) for sha256, key in rows]


def _remove(session: Session, model: type[Base], where: ColumnElement[bool], dry_run: bool) -> int:
    if dry_run:
        return session.scalar(select(func.count()).select_from(model).where(where)) or 0
    return affected_rows(
        session.execute(delete(model).where(where).execution_options(synchronize_session=False))
    )
