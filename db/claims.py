"""Recording what the coordinator decided about a processed upload: a slot, a duplicate, excess, a failure.

Each write is idempotent: recording the same decision again writes nothing. A decision that
contradicts what is recorded (another slot, another outcome) raises and writes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.clock import stamp
from db.models import Essay, Failure, Submission
from db.outbox import add_event
from db.submissions import get_submission
from db.writes import insert_ignore, locked_row
from els.errors import ConflictError, NotFoundError
from els.events import (
    EssaySlotAssigned,
    EssaySlotAssignedData,
    EssayValidationFailed,
    EssayValidationFailedData,
    ExcessContent,
    ExcessContentData,
)
from essays.lifecycle import EssayState, SubmissionState, advance_essay, advance_submission


def record_slot_assigned(
    session: Session, submission_id: str, essay_id: str, *, at: datetime | None = None
) -> bool:
    """Submission READY in slot `essay_id`; the essay READY with its content; EssaySlotAssigned."""
    submission = get_submission(session, submission_id)
    essay = _get_slot(session, essay_id, submission)
    if essay.submission_id == submission_id and submission.essay_id == essay_id:
        return False
    _check_slot_free(essay, submission_id)
    content_hash = submission.content_hash
    if content_hash is None:
        raise ConflictError(
            f"submission {submission_id} has no processed content to fill a slot with",
            details={"submission_id": submission_id},
        )
    advance_submission(SubmissionState(submission.state), SubmissionState.READY)
    advance_essay(EssayState(essay.state), EssayState.READY)
    holder = session.scalar(
        select(Essay.essay_id).where(Essay.batch_id == essay.batch_id, Essay.content_hash == content_hash)
    )
    if holder is not None:
        raise ConflictError(
            f"slot {holder} of batch {essay.batch_id} already holds this content",
            details={"essay_id": holder, "submission_id": submission_id},
        )
    assigned_at = stamp(at)
    submission.state = SubmissionState.READY.value
    submission.essay_id = essay_id
    submission.updated_at = assigned_at
    essay.state = EssayState.READY.value
    essay.submission_id = submission_id
    essay.content_hash = content_hash
    essay.metrics = submission.metrics
    essay.updated_at = assigned_at
    data = EssaySlotAssignedData(
        batch_id=essay.batch_id,
        essay_id=essay_id,
        submission_id=submission_id,
        filename=submission.filename,
        content_hash=content_hash,
    )
    add_event(
        session,
        EssaySlotAssigned.create(data, correlation_id=submission.correlation_id, occurred_at=assigned_at),
    )
    return True


def record_duplicate(
    session: Session, submission_id: str, essay_id: str, *, at: datetime | None = None
) -> bool:
    """Submission DUPLICATE of the content already in slot `essay_id`; it takes no slot."""
    submission = get_submission(session, submission_id)
    _get_slot(session, essay_id, submission)
    if submission.state == SubmissionState.DUPLICATE.value and submission.essay_id == essay_id:
        return False
    advance_submission(SubmissionState(submission.state), SubmissionState.DUPLICATE)
    submission.state = SubmissionState.DUPLICATE.value
    submission.essay_id = essay_id
    submission.updated_at = stamp(at)
    return True


def record_excess(session: Session, submission_id: str, *, at: datetime | None = None) -> bool:
    """Submission EXCESS: no slot was left for it; ExcessContent."""
    submission = get_submission(session, submission_id)
    if not advance_submission(SubmissionState(submission.state), SubmissionState.EXCESS):
        return False
    excess_at = stamp(at)
    submission.state = SubmissionState.EXCESS.value
    submission.updated_at = excess_at
    data = ExcessContentData(
        batch_id=submission.batch_id,
        submission_id=submission_id,
        filename=submission.filename,
        content_hash=submission.content_hash,
    )
    add_event(
        session, ExcessContent.create(data, correlation_id=submission.correlation_id, occurred_at=excess_at)
    )
    return True


def record_failure(
    session: Session,
    submission_id: str,
    essay_id: str | None,
    code: str,
    detail: str,
    *,
    at: datetime | None = None,
) -> bool:
    """Submission FAILED, a failure record, the slot it consumed (if any) FAILED; EssayValidationFailed."""
    submission = get_submission(session, submission_id)
    essay = None if essay_id is None else _get_slot(session, essay_id, submission)
    if submission.state == SubmissionState.FAILED.value:
        if submission.essay_id != essay_id:
            raise ConflictError(
                f"submission {submission_id} already failed in another slot",
                details={"submission_id": submission_id},
            )
        return False
    advance_submission(SubmissionState(submission.state), SubmissionState.FAILED)
    if essay is not None:
        _check_slot_free(essay, submission_id)
        advance_essay(EssayState(essay.state), EssayState.FAILED)
    failed_at = stamp(at)
    submission.state = SubmissionState.FAILED.value
    submission.essay_id = essay_id
    submission.error_code = code
    submission.error_detail = detail
    submission.updated_at = failed_at
    if essay is not None:
        essay.state = EssayState.FAILED.value
        essay.submission_id = submission_id
        essay.error_code = code
        essay.error_detail = detail
        essay.updated_at = failed_at
    session.flush()  # the failure row refers to the essay's new state
    failure = {
        "submission_id": submission_id,
        "batch_id": submission.batch_id,
        "essay_id": essay_id,
        "code": code,
        "detail": detail,
        "created_at": failed_at,
    }
    insert_ignore(session, Failure, [failure])
    data = EssayValidationFailedData(
        batch_id=submission.batch_id,
        submission_id=submission_id,
        essay_id=essay_id,
        filename=submission.filename,
        code=code,
        detail=detail,
    )
    add_event(
        session,
        EssayValidationFailed.create(data, correlation_id=submission.correlation_id, occurred_at=failed_at),
    )
    return True


def displace_slot_holder(
    session: Session, submission_id: str, essay_id: str, *, at: datetime | None = None
) -> str | None:
    """Free slot `essay_id` of another submission that SQL says holds it; returns that submission's id.

    Only for a decision Redis just made: Redis handed the slot to `submission_id`, so the claim SQL
    mirrored for the holder was lost by Redis (the last second of writes before a crash or failover).
    SQL follows Redis: the holder goes back to processed-but-unclaimed, to claim again.
    """
    submission = get_submission(session, submission_id)
    essay = _get_slot(session, essay_id, submission)
    holder_id = essay.submission_id
    if holder_id is None or holder_id == submission_id:
        return None
    holder = get_submission(session, holder_id)
    moved_at = stamp(at)
    # The one step backwards in either lifecycle, because the decision it mirrored no longer exists.
    holder.state = SubmissionState.PROCESSING.value
    holder.essay_id = None
    holder.updated_at = moved_at
    essay.state = EssayState.AWAITING.value
    essay.submission_id = None
    essay.content_hash = None
    essay.metrics = None
    essay.analysis = None  # analysed at its claim: that analysis was of the displaced text
    essay.error_code = None
    essay.error_detail = None
    essay.updated_at = moved_at
    session.flush()
    return holder_id


def _get_slot(session: Session, essay_id: str, submission: Submission) -> Essay:
    essay = locked_row(session, Essay, essay_id)
    if essay is None or essay.batch_id != submission.batch_id:
        raise NotFoundError(
            f"essay {essay_id} is not a slot of batch {submission.batch_id}",
            details={"essay_id": essay_id, "batch_id": submission.batch_id},
        )
    return essay


def _check_slot_free(essay: Essay, submission_id: str) -> None:
    if essay.submission_id is not None and essay.submission_id != submission_id:
        raise ConflictError(
            f"slot {essay.essay_id} is already taken by submission {essay.submission_id}",
            details={"essay_id": essay.essay_id, "submission_id": submission_id},
        )
