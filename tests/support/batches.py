"""Pipeline test helpers: register through intake, store uploads straight into SQL, poll the coordinator."""

from __future__ import annotations

import hashlib
import time
import uuid
from datetime import UTC, datetime

from coordinator import BatchState, BatchStatus
from db.blobs import new_upload_key
from db.session import unit_of_work
from db.submissions import NewSubmission, store_submission
from db.uploads import StoredUpload
from els.ids import scoped_id
from services.intake import BatchRequest
from services.intake import register_batch as register
from services.runtime import Runtime


def register_batch(
    runtime: Runtime, count: int, *, deadline_seconds: int = 3600, owner: str = "teacher-1"
) -> str:
    """Register a batch of `count` slots through intake; returns its owner-scoped id, as SQL, Redis and
    the tasks know it (`els.ids.public_id` gives the owner's)."""
    request = BatchRequest(
        owner=owner,
        correlation_id=f"corr-{uuid.uuid4().hex[:8]}",
        expected_count=count,
        deadline_seconds=deadline_seconds,
    )
    return scoped_id(owner, register(runtime, request).batch_id)


def submit(runtime: Runtime, batch_id: str, filename: str, data: bytes, *, enqueue: bool = True) -> str:
    """Store one upload straight into SQL and (unless told not to) start its processing.

    This skips intake's up-front checks on purpose, so pipeline tests can hand the worker anything.
    """
    submission_id = f"s-{uuid.uuid4().hex[:16]}"
    sha256 = hashlib.sha256(data).hexdigest()
    blob_key = new_upload_key(sha256)
    runtime.blobs.put(blob_key, data)
    with unit_of_work(runtime.engine) as session:
        store_submission(
            session,
            NewSubmission(
                submission_id=submission_id,
                batch_id=batch_id,
                idempotency_key=None,
                filename=filename,
                media_type="application/octet-stream",
                upload=StoredUpload(sha256, len(data), blob_key),
                correlation_id=f"corr-{batch_id}",
                received_at=datetime.now(UTC),
            ),
        )
    if enqueue:
        runtime.dispatcher.process(batch_id, submission_id, f"corr-{batch_id}")
    return submission_id


def wait_for_state(runtime: Runtime, batch_id: str, state: BatchState, timeout: float = 60) -> BatchStatus:
    """Poll the coordinator until the batch reaches `state`; fails with the last status seen."""
    deadline = time.monotonic() + timeout
    progress = runtime.coordinator.progress(batch_id)  # one HMGET a poll; the whole status once, at the end
    while progress is None or progress.state is not state:
        if time.monotonic() > deadline:
            raise AssertionError(f"batch {batch_id} did not reach {state.value}: {progress}")
        time.sleep(0.05)
        progress = runtime.coordinator.progress(batch_id)
    status = runtime.coordinator.status(batch_id)
    if status is None:
        raise AssertionError(f"batch {batch_id} reached {state.value} and vanished")
    return status


def wait_for_assigned(runtime: Runtime, batch_id: str, assigned: int, timeout: float = 30) -> None:
    """Poll until at least `assigned` slots are assigned."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        progress = runtime.coordinator.progress(batch_id)
        if progress is not None and progress.assigned >= assigned:
            return
        time.sleep(0.05)
    raise AssertionError(f"batch {batch_id} never had {assigned} assigned")
