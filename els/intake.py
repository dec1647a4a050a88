"""Intake: registering a batch and submitting an essay, once for the API and the command line.

Registration writes the SQL batch row first (idempotent) and then registers in Redis, the commit
point: a crash in between leaves a SQL row nobody sees, which a retry completes. Submission stores
the upload (idempotent by its key) and then enqueues processing; a replay still RECEIVED is enqueued
again, since processing is idempotent.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio.to_thread
from sqlalchemy import Engine

from coordinator import BatchState, Coordinator, generated_essay_ids, registration_fingerprint
from coordinator.validation import check_count, check_essay_ids, check_id
from db.batches import BatchRecord, StoredBatch, load_batch, record_registration
from db.session import unit_of_work
from db.submissions import NewSubmission, get_submission, store_submission
from els.errors import InvalidInputError, NotFoundError
from els.intake_errors import (
    BatchNotOpenError,
    PayloadTooLargeError,
    RegistrationConflictError,
    UnsupportedMediaTypeError,
)
from els.jsontypes import JsonObject
from els.settings import Settings
from essays.detect import detect_media_type
from essays.lifecycle import SubmissionState
from essays.rejection import EssayRejectedError, RejectionCode

_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,100}")


EnqueueSubmission = Callable[[str, str, str], None]
EnqueueFollowup = Callable[[str, str], None]


@dataclass(frozen=True)
class Intake:
    """What intake needs: settings, the database, the coordinator and the two enqueue functions.

    The coordinator is synchronous; intake calls it from the thread pool (`anyio.to_thread.run_sync`).
    """

    settings: Settings
    engine: Engine
    coordinator: Coordinator
    enqueue_submission: EnqueueSubmission
    enqueue_registration_followup: EnqueueFollowup


@dataclass(frozen=True)
class BatchRequest:
    """A registration: explicit essay ids or an expected count, and everything about the batch."""

    owner: str
    correlation_id: str
    batch_id: str | None = None
    essay_ids: tuple[str, ...] | None = None
    expected_count: int | None = None
    course_code: str | None = None
    language: str | None = None
    deadline_seconds: int | None = None
    metadata: JsonObject | None = None


@dataclass(frozen=True)
class RegisteredBatch:
    """A registered batch; `created` is False for a replay of the same registration."""

    batch_id: str
    owner: str
    essay_ids: tuple[str, ...]
    language: str
    course_code: str | None
    deadline_at: datetime
    state: BatchState
    created: bool


@dataclass(frozen=True)
class Upload:
    """One uploaded file's name, declared type and bytes."""

    filename: str
    declared_type: str
    data: bytes


@dataclass(frozen=True)
class AcceptedSubmission:
    """A stored, enqueued submission; `created` is False for a replayed idempotency key."""

    submission_id: str
    filename: str
    created: bool


async def register_batch(intake: Intake, request: BatchRequest) -> RegisteredBatch:
    """Register a batch (SQL row first, then Redis), or replay the same registration."""
    settings = intake.settings
    batch_id = check_id("batch_id", request.batch_id or f"b-{uuid.uuid4().hex}")
    check_id("owner", request.owner)
    deadline_seconds = request.deadline_seconds or settings.default_deadline_seconds
    if not 1 <= deadline_seconds <= settings.max_deadline_seconds:
        raise InvalidInputError(
            f"deadline_seconds must be within 1..{settings.max_deadline_seconds}",
            details={"field": "deadline_seconds"},
        )
    if (request.essay_ids is None) == (request.expected_count is None):
        raise InvalidInputError("give either essay_ids or expected_count", details={"field": "essay_ids"})
    if request.essay_ids is not None:
        essay_ids = check_essay_ids(request.essay_ids, settings.max_expected_essays)
        shape: tuple[str, ...] | int = essay_ids
    else:
        count = check_count(request.expected_count or 0, settings.max_expected_essays)
        essay_ids, shape = generated_essay_ids(batch_id, count), count
    metadata: JsonObject = request.metadata or {}
    metadata_json = json.dumps(metadata, sort_keys=True, separators=(",", ":"))
    now = datetime.now(UTC)
    record = BatchRecord(
        batch_id=batch_id,
        owner=request.owner,
        essay_ids=essay_ids,
        language=request.language or settings.default_language,
        course_code=request.course_code,
        deadline_at=now + timedelta(seconds=deadline_seconds),
        correlation_id=request.correlation_id,
        metadata=metadata,
        registered_at=now,
    )
    stored = await anyio.to_thread.run_sync(_store_registration, intake.engine, record, deadline_seconds)
    kept = stored.record
    live = await anyio.to_thread.run_sync(intake.coordinator.status, batch_id)
    if live is not None:
        # Committed already: a replay, answered as it stands (even after its deadline has passed).
        return _registered(kept, live.state, created=False)
    register = functools.partial(
        intake.coordinator.register,
        batch_id,
        request.owner,
        essay_ids=essay_ids if isinstance(shape, tuple) else None,
        expected_count=shape if isinstance(shape, int) else None,
        # The stored deadline, so a retry after a crash keeps the first request's deadline.
        deadline_ms=int(stored.record.deadline_at.timestamp() * 1000),
        fingerprint=registration_fingerprint(request.owner, shape, deadline_seconds, metadata_json),
        correlation_id=request.correlation_id,
        metadata_json=metadata_json,
        now_ms=int(datetime.now(UTC).timestamp() * 1000),
    )
    result = await anyio.to_thread.run_sync(register)
    if result.pending_replayed > 0:
        await anyio.to_thread.run_sync(intake.enqueue_registration_followup, batch_id, request.correlation_id)
    return _registered(kept, result.state, created=result.created)


def _registered(kept: BatchRecord, state: BatchState, *, created: bool) -> RegisteredBatch:
    return RegisteredBatch(
        batch_id=kept.batch_id,
        owner=kept.owner,
        essay_ids=kept.essay_ids,
        language=kept.language,
        course_code=kept.course_code,
        deadline_at=kept.deadline_at,
        state=state,
        created=created,
    )


def _store_registration(engine: Engine, record: BatchRecord, deadline_seconds: int) -> StoredBatch:
    with unit_of_work(engine) as session:
        stored = load_batch(session, record.batch_id)
        if stored is None:
            record_registration(session, record)
            stored = load_batch(session, record.batch_id)
    if stored is None:
        raise NotFoundError(f"batch {record.batch_id} vanished while it was registered")
    # A replay is compared with the stored row before Redis is asked, so a conflict changes nothing.
    _check_replay(stored.record, record, deadline_seconds)
    return stored


def _check_replay(stored: BatchRecord, request: BatchRecord, deadline_seconds: int) -> None:
    stored_seconds = round((stored.deadline_at - stored.registered_at).total_seconds())
    same = (
        stored.owner == request.owner
        and stored.essay_ids == request.essay_ids
        and stored.language == request.language
        and stored.course_code == request.course_code
        and stored.metadata == request.metadata
        and stored_seconds == deadline_seconds
    )
    if not same:
        raise RegistrationConflictError(
            f"batch {stored.batch_id} is already registered differently",
            details={"batch_id": stored.batch_id},
        )


async def check_open_batch(intake: Intake, owner: str, batch_id: str) -> None:
    """Raise NotFoundError unless the batch is the owner's, BatchNotOpenError unless it is OPEN."""
    check_id("batch_id", batch_id)
    status = await anyio.to_thread.run_sync(intake.coordinator.status, batch_id)
    if status is None or status.owner != owner:
        raise NotFoundError(f"batch {batch_id} not found", details={"batch_id": batch_id})
    if status.state is not BatchState.OPEN:
        raise BatchNotOpenError(
            f"batch {batch_id} is {status.state.value} and takes no more essays",
            details={"batch_id": batch_id, "state": status.state.value},
        )


def check_upload(settings: Settings, upload: Upload) -> str:
    """The upload's media type; PayloadTooLargeError or UnsupportedMediaTypeError when refused."""
    if len(upload.data) > settings.max_upload_bytes:
        raise PayloadTooLargeError(
            f"{upload.filename} is larger than {settings.max_upload_bytes} bytes",
            details={"filename": upload.filename[:200], "limit": settings.max_upload_bytes},
        )
    try:
        return detect_media_type(upload.data, upload.filename).value
    except EssayRejectedError as error:
        if error.code == RejectionCode.UNSUPPORTED_TYPE:
            raise UnsupportedMediaTypeError(error.message, details=error.details) from error
        # A damaged document is the worker's to reject, with a failure record in the batch.
        return upload.declared_type[:128] or "application/octet-stream"


def file_idempotency_key(key: str | None, index: int) -> str | None:
    """The idempotency key of the index-th file of a request that sent `key` (None without one)."""
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise InvalidInputError(
            "Idempotency-Key must be 1 to 100 printable ASCII characters",
            details={"field": "Idempotency-Key"},
        )
    return f"{key}#{index}"


async def submit_essay(
    intake: Intake,
    owner: str,
    batch_id: str,
    upload: Upload,
    *,
    idempotency_key: str | None,
    correlation_id: str,
) -> AcceptedSubmission:
    """Store one upload for an OPEN batch of the owner's and enqueue its processing."""
    accepted = await submit_essays(
        intake, owner, batch_id, [upload], idempotency_key=idempotency_key, correlation_id=correlation_id
    )
    return accepted[0]


async def submit_essays(
    intake: Intake,
    owner: str,
    batch_id: str,
    uploads: Sequence[Upload],
    *,
    idempotency_key: str | None,
    correlation_id: str,
) -> list[AcceptedSubmission]:
    """Check every upload first (so a refused one stores nothing), then store and enqueue each."""
    await check_open_batch(intake, owner, batch_id)
    if not uploads:
        raise InvalidInputError("send at least one file", details={"field": "files"})
    media_types = [check_upload(intake.settings, upload) for upload in uploads]
    keys = [file_idempotency_key(idempotency_key, index) for index in range(len(uploads))]
    accepted: list[AcceptedSubmission] = []
    for upload, media_type, key in zip(uploads, media_types, keys, strict=True):
        new = NewSubmission(
            submission_id=f"s-{uuid.uuid4().hex}",
            batch_id=batch_id,
            idempotency_key=key,
            filename=upload.filename[:512] or "upload",
            media_type=media_type,
            data=upload.data,
            correlation_id=correlation_id,
            received_at=datetime.now(UTC),
        )
        submission_id, created, state = await anyio.to_thread.run_sync(_store_upload, intake.engine, new)
        if created or state is SubmissionState.RECEIVED:
            await anyio.to_thread.run_sync(intake.enqueue_submission, batch_id, submission_id, correlation_id)
        accepted.append(AcceptedSubmission(submission_id, new.filename, created))
    return accepted


def _store_upload(engine: Engine, new: NewSubmission) -> tuple[str, bool, SubmissionState]:
    with unit_of_work(engine) as session:
        stored = store_submission(session, new)
        state = SubmissionState(get_submission(session, stored.submission_id).state)
    return stored.submission_id, stored.created, state
