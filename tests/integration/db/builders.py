"""Builders of batches and uploads for the persistence tests, and a snapshot of every table."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select

from db.batches import BatchRecord, record_registration, record_registration_confirmed
from db.blobs import new_upload_key
from db.models import Base
from db.session import unit_of_work
from db.submissions import NewSubmission, mark_processing, record_processed, store_submission
from db.uploads import StoredUpload

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def unique(prefix: str) -> str:
    """An id no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def batch_record(slots: int = 3, *, batch_id: str | None = None, at: datetime = T0) -> BatchRecord:
    """A batch of `slots` essay ids registered at `at`."""
    batch_id = batch_id or unique("batch")
    return BatchRecord(
        batch_id=batch_id,
        owner="teacher-7",
        essay_ids=tuple(f"{batch_id}-essay-{n}" for n in range(slots)),
        language="en",
        course_code="ENG5",
        deadline_at=at + timedelta(days=1),
        correlation_id=unique("corr"),
        metadata={"class": "9B", "tags": ["term-1"]},
        registered_at=at,
    )


def recorded_upload(data: bytes) -> StoredUpload:
    """What intake records for `data` once it wrote it to a blob store (these tests keep no bytes)."""
    sha256 = hashlib.sha256(data).hexdigest()
    return StoredUpload(sha256, len(data), new_upload_key(sha256))


def new_submission(
    batch_id: str, data: bytes, *, key: str | None = None, at: datetime = T0, filename: str = "essay.txt"
) -> NewSubmission:
    """An upload of `data` to `batch_id`."""
    return NewSubmission(
        submission_id=unique("sub"),
        batch_id=batch_id,
        idempotency_key=key,
        filename=filename,
        media_type="text/plain",
        upload=recorded_upload(data),
        correlation_id=unique("corr"),
        received_at=at,
    )


def content_hash(text: str) -> str:
    """The sha256 hex of the text's UTF-8 bytes, as the pipeline hashes normalised text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def essay_text(n: int) -> str:
    """A distinct essay text."""
    return f"Essay number {n} argues that tests should state the property they defend."


def register(engine: Engine, batch: BatchRecord) -> None:
    """Register `batch` and confirm it (as once Redis has taken it), each in its own unit of work."""
    with unit_of_work(engine) as session:
        record_registration(session, batch)
    with unit_of_work(engine) as session:
        record_registration_confirmed(session, batch.batch_id)


def processed_submission(
    engine: Engine, batch_id: str, text: str, *, upload: bytes | None = None, at: datetime = T0
) -> str:
    """Store an upload (of `text`, unless `upload` is given) and record it processed as `text`."""
    new = new_submission(batch_id, text.encode("utf-8") if upload is None else upload, at=at)
    with unit_of_work(engine) as session:
        store_submission(session, new)
        mark_processing(session, new.submission_id, at=at)
        record_processed(session, new.submission_id, text, content_hash(text), {"words": 11}, at=at)
    return new.submission_id


def snapshot(engine: Engine) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table, as sorted text: equal snapshots mean nothing was written."""
    tables: dict[str, list[tuple[str, ...]]] = {}
    with unit_of_work(engine, read_only=True) as session:
        for table in Base.metadata.sorted_tables:
            rows = session.execute(select(table)).all()
            tables[table.name] = sorted(tuple(str(value) for value in row) for row in rows)
    return tables


def count(engine: Engine, model: type[Base]) -> int:
    """How many rows `model`'s table holds."""
    with unit_of_work(engine, read_only=True) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0
