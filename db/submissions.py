"""Submissions in SQL: storing an upload, then its processing, up to the claim of a slot."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from db.clock import stamp
from db.contents import store_content
from db.models import Batch, Submission, UploadBlob
from db.uploads import StoredUpload, record_upload, upload_key
from db.writes import insert_ignore, locked_row
from els.errors import ConflictError, IdempotencyKeyReusedError, InvalidTransitionError, NotFoundError
from els.jsontypes import JsonObject
from essays.lifecycle import SubmissionState, advance_submission


@dataclass(frozen=True)
class NewSubmission:
    """An upload as the API received it, its bytes already in the blob store."""

    submission_id: str
    batch_id: str
    idempotency_key: str | None
    filename: str
    media_type: str
    upload: StoredUpload
    correlation_id: str
    received_at: datetime


@dataclass(frozen=True)
class StoredSubmission:
    """Which submission holds the upload, as stored, whether this call created it (False: a replay), and
    the blob key its upload's bytes are recorded under."""

    submission_id: str
    filename: str
    state: SubmissionState
    created: bool
    blob_key: str


@dataclass(frozen=True)
class SubmissionRecord:
    """A stored submission, and where its upload's bytes are."""

    submission_id: str
    batch_id: str
    idempotency_key: str | None
    filename: str
    media_type: str
    upload_blob_key: str
    upload_sha256: str
    text_sha256: str | None
    content_hash: str | None
    state: SubmissionState
    essay_id: str | None
    metrics: JsonObject | None
    error_code: str | None
    error_detail: str | None
    correlation_id: str
    created_at: datetime
    updated_at: datetime


def store_submission(session: Session, new: NewSubmission) -> StoredSubmission:
    """Record the upload (its bytes are in the blob store) and a RECEIVED submission; a repeated id or
    idempotency key replays.

    A replay answers what is stored (its filename and id); an idempotency key stored with other bytes
    raises IdempotencyKeyReusedError.
    """
    existing = _find(session, new)
    if existing is not None:
        return existing
    if session.get(Batch, new.batch_id) is None:
        raise NotFoundError(f"batch {new.batch_id} is not stored", details={"batch_id": new.batch_id})
    blob_key = record_upload(session, new.upload, new.received_at)
    row = {
        "submission_id": new.submission_id,
        "batch_id": new.batch_id,
        "idempotency_key": new.idempotency_key,
        "filename": new.filename,
        "media_type": new.media_type,
        "upload_sha256": new.upload.sha256,
        "state": SubmissionState.RECEIVED.value,
        "correlation_id": new.correlation_id,
        "attempts": 0,
        "created_at": new.received_at,
        "updated_at": new.received_at,
    }
    if insert_ignore(session, Submission, [row]):
        return StoredSubmission(new.submission_id, new.filename, SubmissionState.RECEIVED, True, blob_key)
    # A concurrent upload with the same key (or id) committed first: it is the one.
    winner = _find(session, new)
    if winner is None:
        raise ConflictError(f"submission {new.submission_id} collided with a row that is not there")
    return winner


def find_by_idempotency_key(
    session: Session, batch_id: str, idempotency_key: str, upload_sha256: str
) -> StoredSubmission | None:
    """The submission stored under the key, if any; IdempotencyKeyReusedError when it holds other bytes."""
    row = session.scalar(
        select(Submission).where(
            Submission.batch_id == batch_id, Submission.idempotency_key == idempotency_key
        )
    )
    if row is None:
        return None
    return _replayed(session, row, upload_sha256)


def load_submission(session: Session, submission_id: str) -> SubmissionRecord | None:
    """The submission and the blob key of its upload, or None."""
    row = session.get(Submission, submission_id)
    if row is None:
        return None
    blob_key = upload_key(session, row.upload_sha256)
    if blob_key is None:
        raise NotFoundError(f"the upload of submission {submission_id} is not recorded")
    return SubmissionRecord(
        submission_id=row.submission_id,
        batch_id=row.batch_id,
        idempotency_key=row.idempotency_key,
        filename=row.filename,
        media_type=row.media_type,
        upload_blob_key=blob_key,
        upload_sha256=row.upload_sha256,
        text_sha256=row.text_sha256,
        content_hash=row.content_hash,
        state=SubmissionState(row.state),
        essay_id=row.essay_id,
        metrics=row.metrics,
        error_code=row.error_code,
        error_detail=row.error_detail,
        correlation_id=row.correlation_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def mark_processing(session: Session, submission_id: str, *, at: datetime | None = None) -> bool:
    """RECEIVED -> PROCESSING; False when it is processing already."""
    row = get_submission(session, submission_id)
    if not advance_submission(SubmissionState(row.state), SubmissionState.PROCESSING):
        return False
    row.state = SubmissionState.PROCESSING.value
    row.updated_at = stamp(at)
    return True


def start_processing_attempt(session: Session, submission_id: str, *, at: datetime | None = None) -> int:
    """Mark the submission PROCESSING and count one more start of its processing; returns the count.

    Committed before the work it counts, so a delivery whose worker dies mid-processing still counts.
    """
    row = get_submission(session, submission_id)
    mark_processing(session, submission_id, at=at)
    row.attempts += 1
    return row.attempts


def record_processed(
    session: Session,
    submission_id: str,
    text: str,
    content_hash: str,
    metrics: JsonObject,
    *,
    at: datetime | None = None,
) -> bool:
    """Store the extracted text, its content hash and metrics on a PROCESSING submission.

    False when the same result is already recorded; a different one for the same upload is a conflict.
    """
    row = get_submission(session, submission_id)
    if row.content_hash is not None:
        if row.content_hash != content_hash:
            raise ConflictError(
                f"submission {submission_id} was processed to different content",
                details={"submission_id": submission_id},
            )
        return False
    if row.state != SubmissionState.PROCESSING.value:
        raise InvalidTransitionError(
            f"submission {submission_id} is {row.state}: only a processing submission takes a result",
            details={"from": row.state, "to": SubmissionState.PROCESSING.value},
        )
    recorded_at = stamp(at)
    with session.no_autoflush:  # the text's row needs nothing pending: the submission updates once
        row.text_sha256 = store_content(session, text.encode("utf-8"), recorded_at)
    row.content_hash = content_hash
    row.metrics = metrics
    row.updated_at = recorded_at
    return True


def record_first_result(
    session: Session,
    submission_id: str,
    text: str,
    content_hash: str,
    metrics: JsonObject,
    *,
    at: datetime | None = None,
) -> bool:
    """Record a processed result as the settle does: a RECEIVED submission goes through PROCESSING to
    its result in this one transaction (processing writes nothing before). False when a result is
    recorded already: another delivery of the same upload settled first."""
    row = get_submission(session, submission_id)
    if row.content_hash is None and row.state == SubmissionState.RECEIVED.value:
        mark_processing(session, submission_id, at=at)
    return record_processed(session, submission_id, text, content_hash, metrics, at=at)


def get_submission(session: Session, submission_id: str) -> Submission:
    """The submission row, locked for this transaction's update; raises NotFoundError."""
    row = locked_row(session, Submission, submission_id)
    if row is None:
        raise NotFoundError(
            f"submission {submission_id} is not stored", details={"submission_id": submission_id}
        )
    return row


def _find(session: Session, new: NewSubmission) -> StoredSubmission | None:
    if new.idempotency_key is not None:
        by_key = find_by_idempotency_key(session, new.batch_id, new.idempotency_key, new.upload.sha256)
        if by_key is not None:
            return by_key
    by_id = session.get(Submission, new.submission_id, populate_existing=True)
    if by_id is None:
        return None
    if by_id.batch_id != new.batch_id:
        raise ConflictError(
            f"submission {new.submission_id} belongs to another batch",
            details={"submission_id": new.submission_id},
        )
    if by_id.upload_sha256 != new.upload.sha256:
        raise ConflictError(
            f"submission {new.submission_id} is stored with a different upload",
            details={"submission_id": new.submission_id},
        )
    return _replayed(session, by_id, by_id.upload_sha256)


def _replayed(session: Session, row: Submission, upload_sha256: str) -> StoredSubmission:
    if row.upload_sha256 != upload_sha256:
        raise IdempotencyKeyReusedError(
            f"this key was used for a different upload ({row.filename}): send the same file or a new key",
            details={"batch_id": row.batch_id, "idempotency_key": row.idempotency_key},
        )
    blob_key = upload_key(session, row.upload_sha256)
    if blob_key is None:
        raise NotFoundError(f"the upload of submission {row.submission_id} is not recorded")
    return StoredSubmission(row.submission_id, row.filename, SubmissionState(row.state), False, blob_key)


def list_unsettled_submissions(session: Session, batch_id: str) -> list[str]:
    """Ids of the batch's submissions not yet settled (received or processing), oldest first."""
    unsettled = (SubmissionState.RECEIVED.value, SubmissionState.PROCESSING.value)
    rows = session.scalars(
        select(Submission.submission_id)
        .where(Submission.batch_id == batch_id, Submission.state.in_(unsettled))
        .order_by(Submission.created_at)
    )
    return list(rows)


@dataclass(frozen=True)
class StaleSubmission:
    """An unsettled submission nothing has touched for a while: its message may be lost."""

    batch_id: str
    submission_id: str
    correlation_id: str


# The k-th resubmission of one submission waits patience * 2^min(k, 3) for the next: 2, 4, then 8 times.
MAX_RESUBMIT_DOUBLINGS = 3


def has_stale_submissions(session: Session, now: datetime, patience: timedelta) -> bool:
    """Whether any unsettled submission is stale at `now` (a read, no lock): see `claim_stale_submissions`."""
    found = session.scalar(select(Submission.submission_id).where(*_stale(now, patience)).limit(1))
    return found is not None


def claim_stale_submissions(
    session: Session, now: datetime, patience: timedelta, limit: int
) -> list[StaleSubmission]:
    """Unsettled submissions untouched for `patience` and past their backoff, oldest first, at most `limit`.

    Each one's clock restarts at `now`, and its next resubmission waits longer: after the k-th,
    `patience * 2^min(k, 3)`. So a message that waits behind a long queue gains a few copies, not one
    per period. Rows another sweep holds are skipped.
    """
    rows = session.scalars(
        select(Submission)
        .where(*_stale(now, patience))
        .order_by(Submission.updated_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for row in rows:
        row.resubmissions = (row.resubmissions or 0) + 1
        row.resubmit_after = now + patience * 2 ** min(row.resubmissions, MAX_RESUBMIT_DOUBLINGS)
        row.updated_at = now
    return [StaleSubmission(row.batch_id, row.submission_id, row.correlation_id) for row in rows]


def _stale(now: datetime, patience: timedelta) -> tuple[ColumnElement[bool], ...]:
    unsettled = (SubmissionState.RECEIVED.value, SubmissionState.PROCESSING.value)
    return (
        Submission.state.in_(unsettled),
        Submission.updated_at < now - patience,
        or_(Submission.resubmit_after.is_(None), Submission.resubmit_after <= now),
    )


@dataclass(frozen=True)
class SubmissionSummary:
    """A stored submission without its bytes: what a listing or a report shows of one upload."""

    submission_id: str
    batch_id: str
    filename: str
    media_type: str
    size: int
    state: SubmissionState
    essay_id: str | None  # the slot it took or failed in, or the slot whose content it duplicates
    error_code: str | None
    error_detail: str | None
    received_at: datetime
    updated_at: datetime


def list_batch_submissions(
    session: Session, batch_id: str, *, offset: int = 0, limit: int | None = None
) -> list[SubmissionSummary]:
    """The batch's submissions in arrival order (then id), a page of them when `limit` is given."""
    query = (
        select(Submission, UploadBlob.size)
        .join(UploadBlob, UploadBlob.sha256 == Submission.upload_sha256)
        .where(Submission.batch_id == batch_id)
        .order_by(Submission.created_at, Submission.submission_id)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return [_summary(row, size) for row, size in session.execute(query)]


def count_batch_submissions(session: Session, batch_id: str) -> int:
    """How many submissions the batch has."""
    counted = select(func.count()).select_from(Submission).where(Submission.batch_id == batch_id)
    total = session.scalar(counted)
    return int(total or 0)


def load_submission_summaries(session: Session, submission_ids: Collection[str]) -> list[SubmissionSummary]:
    """The submissions among `submission_ids` that exist, without their bytes (one page's files)."""
    if not submission_ids:
        return []
    query = (
        select(Submission, UploadBlob.size)
        .join(UploadBlob, UploadBlob.sha256 == Submission.upload_sha256)
        .where(Submission.submission_id.in_(sorted(submission_ids)))
    )
    return [_summary(row, size) for row, size in session.execute(query)]


def load_submission_summary(session: Session, submission_id: str) -> SubmissionSummary | None:
    """One submission without its bytes, or None."""
    found = session.execute(
        select(Submission, UploadBlob.size)
        .join(UploadBlob, UploadBlob.sha256 == Submission.upload_sha256)
        .where(Submission.submission_id == submission_id)
    ).first()
    if found is None:
        return None
    row, size = found
    return _summary(row, size)


def _summary(row: Submission, size: int) -> SubmissionSummary:
    return SubmissionSummary(
        submission_id=row.submission_id,
        batch_id=row.batch_id,
        filename=row.filename,
        media_type=row.media_type,
        size=size,
        state=SubmissionState(row.state),
        essay_id=row.essay_id,
        error_code=row.error_code,
        error_detail=row.error_detail,
        received_at=row.created_at,
        updated_at=row.updated_at,
    )
