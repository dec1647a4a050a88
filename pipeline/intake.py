"""Registering a batch and accepting uploads, for synchronous callers (the CLI, the demo, tests).

Registration writes SQL first and Redis second: Redis is the commit point, and a crash in between
leaves an invisible SQL row that a retried registration completes.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from coordinator import RegisterResult, registration_fingerprint
from coordinator.clock import now_ms
from db.batches import BatchRecord, record_registration
from db.session import unit_of_work
from db.submissions import NewSubmission, store_submission
from els.jsontypes import JsonObject
from els.runtime import Runtime
from tasks.enqueue import enqueue_registration_followup, enqueue_submission


@dataclass(frozen=True)
class BatchRequest:
    """What a teacher's batch is registered with; ids are generated when not given."""

    owner: str
    expected_count: int
    batch_id: str | None = None
    deadline_seconds: int | None = None
    language: str | None = None
    course_code: str | None = None
    metadata: JsonObject = field(default_factory=dict)
    correlation_id: str | None = None


@dataclass(frozen=True)
class RegisteredBatch:
    """A registered batch: its slots and deadline, and whether this call created it."""

    batch_id: str
    essay_ids: tuple[str, ...]
    deadline_at: datetime
    correlation_id: str
    created: bool


def register_batch(runtime: Runtime, request: BatchRequest) -> RegisteredBatch:
    """Register in SQL, then in Redis; an identical replay returns the same batch."""
    settings = runtime.settings
    batch_id = request.batch_id or f"b{uuid.uuid4().hex[:20]}"
    deadline_seconds = request.deadline_seconds or settings.default_deadline_seconds
    correlation_id = request.correlation_id or str(uuid.uuid4())
    essay_ids = tuple(f"{batch_id}-{i:03d}" for i in range(1, request.expected_count + 1))
    metadata_json = json.dumps(request.metadata, sort_keys=True)
    now = datetime.now(UTC)
    record = BatchRecord(
        batch_id=batch_id,
        owner=request.owner,
        essay_ids=essay_ids,
        language=request.language or settings.default_language,
        course_code=request.course_code,
        deadline_at=now + timedelta(seconds=deadline_seconds),
        correlation_id=correlation_id,
        metadata=request.metadata,
        registered_at=now,
    )
    with unit_of_work(runtime.engine) as session:
        record_registration(session, record)
    result: RegisterResult = runtime.coordinator.register(
        batch_id,
        request.owner,
        essay_ids=essay_ids,
        deadline_ms=now_ms() + deadline_seconds * 1000,
        fingerprint=registration_fingerprint(request.owner, essay_ids, deadline_seconds, metadata_json),
        correlation_id=correlation_id,
        metadata_json=metadata_json,
        now_ms=now_ms(),
    )
    if result.pending_replayed > 0:
        enqueue_registration_followup(batch_id, correlation_id)
    return RegisteredBatch(batch_id, essay_ids, record.deadline_at, correlation_id, result.created)


def submit_upload(
    runtime: Runtime,
    batch_id: str,
    filename: str,
    data: bytes,
    *,
    correlation_id: str,
    idempotency_key: str | None = None,
) -> str:
    """Store one upload and start its processing; a repeated idempotency key returns the first one."""
    with unit_of_work(runtime.engine) as session:
        stored = store_submission(
            session,
            NewSubmission(
                submission_id=f"s{uuid.uuid4().hex[:24]}",
                batch_id=batch_id,
                idempotency_key=idempotency_key,
                filename=filename,
                media_type="application/octet-stream",
                data=data,
                correlation_id=correlation_id,
                received_at=datetime.now(UTC),
            ),
        )
    enqueue_submission(batch_id, stored.submission_id, correlation_id)
    return stored.submission_id
