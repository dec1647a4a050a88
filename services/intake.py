"""Intake: registering a batch and submitting essays, once for the API and the command line.

Registration lives in `services/registration.py` and is re-exported here, so intake stays the one
door the entry points use.

Submission looks the idempotency keys up first: a replay answers what is stored, whatever the
batch's state; only new uploads need an OPEN batch. A new upload is received in Redis first (the
deadline is judged there, at receipt: an upload received in time keeps its right to a slot however long
its processing waits), then stored (idempotent by its key) and enqueued; a replay still RECEIVED is
enqueued again, since processing is idempotent.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import Engine

from coordinator import BatchState, ReceiveResult
from db.batches import load_batch
from db.blobs import new_upload_key
from db.session import unit_of_work
from db.submissions import NewSubmission, StoredSubmission, find_by_idempotency_key, store_submission
from db.uploads import StoredUpload, UploadGoneError, upload_keys
from els.errors import (
    BatchNotOpenError,
    EssayRejectedError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    RejectionCode,
    UnsupportedMediaTypeError,
)
from els.ids import public_id, scoped_id
from els.settings import Settings
from essays.detect import detect_media_type
from essays.lifecycle import SubmissionState
from services import quotas
from services.bounds import clean_filename, owned_id
from services.outages import outage_as_not_ready
from services.registration import BatchRequest, RegisteredBatch, register_batch
from services.runtime import Runtime

_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,100}")
BLOB_WRITERS = 8  # blob store writes of one request in flight at once

__all__ = [
    "AcceptedSubmission",
    "BatchRequest",
    "RegisteredBatch",
    "Upload",
    "check_batch_owner",
    "check_open_batch",
    "check_upload",
    "file_idempotency_key",
    "register_batch",
    "submit_essays",
]


@dataclass(frozen=True)
class Upload:
    """One uploaded file's name, declared type and bytes."""

    filename: str
    declared_type: str
    data: bytes


@dataclass(frozen=True)
class _Draft:
    """A new upload of this request, checked and named, not stored yet."""

    batch_id: str
    submission_id: str
    upload: Upload
    sha256: str
    media_type: str
    idempotency_key: str | None
    correlation_id: str
    received_at: datetime


@dataclass(frozen=True)
class AcceptedSubmission:
    """A stored, enqueued submission; `created` is False for a replayed idempotency key."""

    submission_id: str
    filename: str
    created: bool


@outage_as_not_ready
def check_batch_owner(runtime: Runtime, owner: str, batch_id: str) -> None:
    """Raise NotFoundError unless the batch is stored and the owner's, whatever its state."""
    key = owned_id(owner, "batch_id", batch_id)
    with unit_of_work(runtime.engine, read_only=True) as session:
        stored = load_batch(session, key)
    if stored is None or stored.record.owner != owner:
        raise NotFoundError(f"batch {batch_id} not found", details={"batch_id": batch_id})


@outage_as_not_ready
def check_open_batch(runtime: Runtime, owner: str, batch_id: str) -> None:
    """Raise NotFoundError unless the batch is the owner's, BatchNotOpenError unless it is OPEN and in time.

    A batch stays OPEN past its deadline while uploads received in time are processed, so the deadline
    is checked too; the receipt of each new upload (`submit_essays`) is the check that counts.
    """
    # One HMGET, O(1): every upload request asks. Its deadline is judged by Redis's clock.
    gate = runtime.coordinator.gate(owned_id(owner, "batch_id", batch_id))
    if gate is None or gate.owner != owner:
        raise NotFoundError(f"batch {batch_id} not found", details={"batch_id": batch_id})
    if gate.state is not BatchState.OPEN:
        raise _closed(batch_id, gate.state)
    if gate.late:
        raise _late(batch_id)


def _closed(batch_id: str, state: BatchState) -> BatchNotOpenError:
    return BatchNotOpenError(
        f"batch {batch_id} is {state.value} and takes no more essays",
        details={"batch_id": batch_id, "state": state.value},
    )


def _late(batch_id: str) -> BatchNotOpenError:
    return BatchNotOpenError(
        f"the deadline of batch {batch_id} has passed and it takes no more essays",
        details={"batch_id": batch_id, "state": BatchState.OPEN.value, "reason": "deadline_passed"},
    )


def _refused(receipt: ReceiveResult) -> NotFoundError | BatchNotOpenError:
    """The error for an upload its batch did not receive."""
    batch_id = public_id(receipt.batch_id)
    if receipt.refusal == "late":
        return _late(batch_id)
    if receipt.refusal == "closed" and receipt.state is not None:
        return _closed(batch_id, receipt.state)
    return NotFoundError(f"batch {batch_id} not found", details={"batch_id": batch_id})


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
            raise UnsupportedMediaTypeError(
                f"{upload.filename}: {error.message}",
                details={**error.details, "filename": upload.filename[:200]},
            ) from error
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


@outage_as_not_ready
def submit_essays(
    runtime: Runtime,
    owner: str,
    batch_id: str,
    uploads: Sequence[Upload],
    *,
    correlation_id: str,
    idempotency_key: str | None = None,
) -> list[AcceptedSubmission]:
    """Check every upload, answer replayed keys from what is stored, then store and enqueue the new ones.

    A refused upload stores nothing; a replay needs only the owner's batch, a new upload an OPEN one
    whose deadline has not passed: each new upload is received in Redis (the moment its deadline is
    judged) before anything of the request is stored. Without a key nothing can be a replay, so
    Redis's gate alone answers whose batch it is; with one, SQL does, whatever the batch's state.
    """
    replayable = idempotency_key is not None
    if replayable:
        check_batch_owner(runtime, owner, batch_id)
    else:
        check_open_batch(runtime, owner, batch_id)
    public, batch_id = batch_id, scoped_id(owner, batch_id)
    if not uploads:
        raise InvalidInputError("send at least one file", details={"field": "files"})
    files = [replace(upload, filename=clean_filename(upload.filename)) for upload in uploads]
    media_types = [check_upload(runtime.settings, upload) for upload in files]
    keys = [file_idempotency_key(idempotency_key, index) for index in range(len(files))]
    hashes = [hashlib.sha256(upload.data).hexdigest() for upload in files]
    replays = _stored_replays(runtime.engine, batch_id, keys, hashes) if replayable else {}
    new_uploads = {
        index: _Draft(
            batch_id,
            _submission_id(batch_id, key),
            upload,
            sha256,
            media_type,
            key,
            correlation_id,
            datetime.now(UTC),
        )
        for index, (upload, sha256, media_type, key) in enumerate(
            zip(files, hashes, media_types, keys, strict=True)
        )
        if index not in replays
    }
    if new_uploads:
        if replayable:
            check_open_batch(runtime, owner, public)
        size = sum(len(draft.upload.data) for draft in new_uploads.values())
        quotas.reserve_uploads(runtime, owner, len(new_uploads), size)
        _receive(runtime, batch_id, [draft.submission_id for draft in new_uploads.values()])
    written = _write_blobs(runtime, list(new_uploads.values()))
    stored = {**replays, **_store_uploads(runtime, new_uploads, written)}
    accepted: list[AcceptedSubmission] = []
    for index in range(len(files)):
        submission = stored[index]
        if submission.created or submission.state is SubmissionState.RECEIVED:
            runtime.dispatcher.process(batch_id, submission.submission_id, correlation_id)
        accepted.append(AcceptedSubmission(submission.submission_id, submission.filename, submission.created))
    return accepted


def _receive(runtime: Runtime, batch_id: str, submission_ids: Sequence[str]) -> None:
    # The whole request is received at one instant of Redis's clock, or none of it is: its files are all
    # in time or all late, and a refused request leaves no receipt holding the batch's expiry.
    receipt = runtime.coordinator.receive(batch_id, submission_ids)
    if not receipt.received:
        raise _refused(receipt)


def _stored_replays(
    engine: Engine, batch_id: str, keys: Sequence[str | None], hashes: Sequence[str]
) -> dict[int, StoredSubmission]:
    # IdempotencyKeyReusedError for a key stored with other bytes, before anything of this request is stored.
    replays: dict[int, StoredSubmission] = {}
    with unit_of_work(engine, read_only=True) as session:
        for index, (key, sha256) in enumerate(zip(keys, hashes, strict=True)):
            stored = None if key is None else find_by_idempotency_key(session, batch_id, key, sha256)
            if stored is not None:
                replays[index] = stored
    return replays


def _submission_id(batch_id: str, key: str | None) -> str:
    # Keyed uploads get an id derived from their key, so a retry after a failure between the receipt and
    # the store (or a request racing its own retry) reuses the receipt instead of taking a second one.
    if key is None:
        return f"s-{uuid.uuid4().hex}"
    digest = hashlib.sha256(batch_id.encode() + b"\x00" + key.encode()).hexdigest()
    return f"s-{digest[:32]}"


def _write_blobs(runtime: Runtime, drafts: Sequence[_Draft]) -> dict[str, tuple[str, bool]]:
    """Write the request's bytes that are not recorded yet to the blob store, side by side (each write
    waits for its fsync); returns sha256 -> (blob key, written by this request).

    Bytes first, then the rows that name them: a crash between leaves at worst an unnamed blob. Each
    write takes a new key, so a purge deleting an old copy never deletes the one a later upload wrote.
    """
    if not drafts:
        return {}
    with unit_of_work(runtime.engine, read_only=True) as session:
        known = upload_keys(session, sorted({draft.sha256 for draft in drafts}))
    fresh = {draft.sha256: draft.upload.data for draft in drafts if draft.sha256 not in known}
    keys = {sha256: new_upload_key(sha256) for sha256 in fresh}
    if len(fresh) == 1:
        ((sha256, data),) = fresh.items()
        runtime.blobs.put(keys[sha256], data)
    elif fresh:
        with ThreadPoolExecutor(max_workers=min(BLOB_WRITERS, len(fresh))) as writers:
            writes = [writers.submit(runtime.blobs.put, keys[sha256], data) for sha256, data in fresh.items()]
            for done in writes:
                done.result()
    return {
        **{sha256: (key, False) for sha256, key in known.items()},
        **{sha: (key, True) for sha, key in keys.items()},
    }


def _store_uploads(
    runtime: Runtime, drafts: dict[int, _Draft], written: dict[str, tuple[str, bool]]
) -> dict[int, StoredSubmission]:
    """Record the request's new uploads in one transaction: all of them, or none."""
    if not drafts:
        return {}
    try:
        stored = _record_uploads(runtime, drafts, written)
    except UploadGoneError:  # bytes recorded before were purged meanwhile: write them again, then retry
        again = {draft.sha256: draft for draft in drafts.values() if not written[draft.sha256][1]}
        keys = {sha256: new_upload_key(sha256) for sha256 in again}
        for sha256, draft in again.items():
            runtime.blobs.put(keys[sha256], draft.upload.data)
        written = {**written, **{sha256: (key, True) for sha256, key in keys.items()}}
        stored = _record_uploads(runtime, drafts, written)
    # The same bytes recorded meanwhile under another key (a concurrent upload): this copy is not needed.
    unneeded = {
        written[drafts[index].sha256][0]
        for index, submission in stored.items()
        if written[drafts[index].sha256][1] and submission.blob_key != written[drafts[index].sha256][0]
    }
    if unneeded:
        runtime.blobs.delete(sorted(unneeded))
    return stored


def _record_uploads(
    runtime: Runtime, drafts: dict[int, _Draft], written: dict[str, tuple[str, bool]]
) -> dict[int, StoredSubmission]:
    with unit_of_work(runtime.engine) as session:
        return {
            index: store_submission(session, _new_submission(draft, *written[draft.sha256]))
            for index, draft in drafts.items()
        }


def _new_submission(draft: _Draft, blob_key: str, fresh: bool) -> NewSubmission:
    return NewSubmission(
        submission_id=draft.submission_id,
        batch_id=draft.batch_id,
        idempotency_key=draft.idempotency_key,
        filename=draft.upload.filename,
        media_type=draft.media_type,
        upload=StoredUpload(draft.sha256, len(draft.upload.data), blob_key, written=fresh),
        correlation_id=draft.correlation_id,
        received_at=draft.received_at,
    )
