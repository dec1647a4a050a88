"""Registering batches and storing uploads the way intake does, for pipeline tests."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

from coordinator import BatchState, BatchStatus, registration_fingerprint
from coordinator.clock import now_ms
from db.batches import BatchRecord, record_registration
from db.session import unit_of_work
from db.submissions import NewSubmission, store_submission
from els.runtime import Runtime
from tasks.enqueue import enqueue_submission


def register_batch(
    runtime: Runtime, count: int, *, deadline_seconds: int = 3600, owner: str = "teacher-1"
) -> str:
    """Register a batch of `count` slots in SQL, then in Redis; returns its id."""
    batch_id = f"b-{uuid.uuid4().hex[:12]}"
    essay_ids = tuple(f"{batch_id}-{i:03d}" for i in range(1, count + 1))
    now = datetime.now(UTC)
    record = BatchRecord(
        batch_id=batch_id,
        owner=owner,
        essay_ids=essay_ids,
        language="en",
        course_code=None,
        deadline_at=now + timedelta(seconds=deadline_seconds),
        correlation_id=f"corr-{batch_id}",
        metadata={},
        registered_at=now,
    )
    with unit_of_work(runtime.engine) as session:
        record_registration(session, record)
    runtime.coordinator.register(
        batch_id,
        owner,
        essay_ids=essay_ids,
        deadline_ms=now_ms() + deadline_seconds * 1000,
        fingerprint=registration_fingerprint(owner, essay_ids, deadline_seconds, "{}"),
        correlation_id=record.correlation_id,
        now_ms=now_ms(),
    )
    return batch_id


def submit(runtime: Runtime, batch_id: str, filename: str, data: bytes, *, enqueue: bool = True) -> str:
    """Store one upload and start its processing; returns the submission id."""
    submission_id = f"s-{uuid.uuid4().hex[:16]}"
    with unit_of_work(runtime.engine) as session:
        store_submission(
            session,
            NewSubmission(
                submission_id=submission_id,
                batch_id=batch_id,
                idempotency_key=None,
                filename=filename,
                media_type="application/octet-stream",
                data=data,
                correlation_id=f"corr-{batch_id}",
                received_at=datetime.now(UTC),
            ),
        )
    if enqueue:
        enqueue_submission(batch_id, submission_id, f"corr-{batch_id}")
    return submission_id


def wait_for_state(runtime: Runtime, batch_id: str, state: BatchState, timeout: float = 60) -> BatchStatus:
    """Poll the coordinator until the batch reaches `state`; fails with the last status seen."""
    deadline = time.monotonic() + timeout
    status = runtime.coordinator.status(batch_id)
    while status is None or status.state is not state:
        if time.monotonic() > deadline:
            raise AssertionError(f"batch {batch_id} did not reach {state.value}: {status}")
        time.sleep(0.05)
        status = runtime.coordinator.status(batch_id)
    return status


def wait_for_assigned(runtime: Runtime, batch_id: str, assigned: int, timeout: float = 30) -> None:
    """Poll until at least `assigned` slots are assigned."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = runtime.coordinator.status(batch_id)
        if status is not None and status.assigned >= assigned:
            return
        time.sleep(0.05)
    raise AssertionError(f"batch {batch_id} never had {assigned} assigned")
