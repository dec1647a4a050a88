"""The tables ELS keeps in SQL, as typed SQLAlchemy models; the migrations are what create them.

States are plain strings checked in Python by the lifecycles, never database enums, so the two can
never drift apart. No foreign key is ON DELETE SET NULL: a batch's rows go with it (CASCADE), and
links between siblings (essay -> submission) refuse the delete, so purge removes them in order.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from db.columns import UtcDateTime
from els.jsontypes import JsonObject

# Named constraints: SQLite batch migrations can only alter what has a name.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = String(128)
HASH = String(64)
STATE = String(32)


class Base(DeclarativeBase):
    """Base of every ELS table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Batch(Base):
    """One registered batch; `state` mirrors the coordinator's final word about it."""

    __tablename__ = "batches"
    __table_args__ = (Index(None, "state", "completed_at"),)

    batch_id: Mapped[str] = mapped_column(ID, primary_key=True)
    owner: Mapped[str] = mapped_column(ID)
    expected_count: Mapped[int] = mapped_column(Integer)
    essay_ids: Mapped[list[str]] = mapped_column(JSON)
    language: Mapped[str] = mapped_column(String(16))
    course_code: Mapped[str | None] = mapped_column(String(64))
    deadline_at: Mapped[datetime] = mapped_column(UtcDateTime)
    correlation_id: Mapped[str] = mapped_column(ID)
    batch_metadata: Mapped[JsonObject] = mapped_column("metadata", JSON)
    state: Mapped[str] = mapped_column(STATE)
    closed_as: Mapped[str | None] = mapped_column(STATE)
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    report: Mapped[JsonObject | None] = mapped_column(JSON)


class Content(Base):
    """Extracted UTF-8 text, addressed by its sha256 (uploads themselves live in the blob store)."""

    __tablename__ = "contents"

    sha256: Mapped[str] = mapped_column(HASH, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class UploadBlob(Base):
    """An uploaded file as SQL knows it: its sha256, its size, and the blob store key of its bytes."""

    __tablename__ = "uploads"

    sha256: Mapped[str] = mapped_column(HASH, primary_key=True)
    blob_key: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Submission(Base):
    """One upload on its way to a slot."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("batch_id", "idempotency_key"),
        Index(None, "upload_sha256"),
        Index(None, "text_sha256"),
        Index(None, "state", "updated_at"),
    )

    submission_id: Mapped[str] = mapped_column(ID, primary_key=True)
    batch_id: Mapped[str] = mapped_column(ID, ForeignKey("batches.batch_id", ondelete="CASCADE"))
    idempotency_key: Mapped[str | None] = mapped_column(ID)
    filename: Mapped[str] = mapped_column(String(512))
    media_type: Mapped[str] = mapped_column(String(128))
    upload_sha256: Mapped[str] = mapped_column(HASH, ForeignKey("uploads.sha256"))
    text_sha256: Mapped[str | None] = mapped_column(HASH, ForeignKey("contents.sha256"))
    content_hash: Mapped[str | None] = mapped_column(HASH)
    state: Mapped[str] = mapped_column(STATE)
    essay_id: Mapped[str | None] = mapped_column(ID)
    metrics: Mapped[JsonObject | None] = mapped_column(JSON)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_detail: Mapped[str | None] = mapped_column(Text)
    correlation_id: Mapped[str] = mapped_column(ID)
    # How many times processing started: a delivery that kills its worker still counts, so a poison
    # upload is failed after `ELS_MAX_PROCESSING_ATTEMPTS` instead of being redelivered forever.
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # How often the sweep handed it out again as stale, and not before when it may next: each time
    # waits twice as long (up to 8 times), so a long queue does not gain a copy of it every period.
    resubmissions: Mapped[int] = mapped_column(Integer, server_default=text("0"), default=0)
    resubmit_after: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Essay(Base):
    """One slot of a batch, created at registration and filled by at most one submission."""

    __tablename__ = "essays"
    __table_args__ = (
        UniqueConstraint("batch_id", "position"),
        # A second line of defence behind the coordinator: one content, one slot per batch.
        UniqueConstraint("batch_id", "content_hash"),
    )

    essay_id: Mapped[str] = mapped_column(ID, primary_key=True)
    batch_id: Mapped[str] = mapped_column(ID, ForeignKey("batches.batch_id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    submission_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("submissions.submission_id"), unique=True
    )
    content_hash: Mapped[str | None] = mapped_column(HASH)
    state: Mapped[str] = mapped_column(STATE)
    metrics: Mapped[JsonObject | None] = mapped_column(JSON)
    analysis: Mapped[JsonObject | None] = mapped_column(JSON)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Failure(Base):
    """Why one submission failed; at most one per submission."""

    __tablename__ = "failures"
    __table_args__ = (Index(None, "batch_id"),)

    submission_id: Mapped[str] = mapped_column(
        ID, ForeignKey("submissions.submission_id", ondelete="CASCADE"), primary_key=True
    )
    batch_id: Mapped[str] = mapped_column(ID, ForeignKey("batches.batch_id", ondelete="CASCADE"))
    essay_id: Mapped[str | None] = mapped_column(ID, ForeignKey("essays.essay_id"))
    code: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OutboxEvent(Base):
    """An event written in the transaction that caused it, waiting for the relay to publish it.

    No foreign key to the batch: an event outlives its batch until it is published.
    """

    __tablename__ = "outbox_events"
    __table_args__ = (
        # What the relay asks for: unpublished, not parked, due.
        Index(
            "ix_outbox_events_due",
            "next_attempt_at",
            postgresql_where="published_at IS NULL AND parked_at IS NULL",
            sqlite_where="published_at IS NULL AND parked_at IS NULL",
        ),
        Index(None, "aggregate_id"),
    )

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(64))
    routing_key: Mapped[str] = mapped_column(String(128))
    aggregate_id: Mapped[str] = mapped_column(ID)
    payload: Mapped[JsonObject] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    parked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class RetiredBatch(Base):
    """A batch id whose batch was purged: never registered again, so no event id is ever reused."""

    __tablename__ = "retired_batches"

    batch_id: Mapped[str] = mapped_column(ID, primary_key=True)
    retired_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WebhookEndpoint(Base):
    """An owner's webhook: where the owner's batch events are delivered, and the secret that signs them."""

    __tablename__ = "webhook_endpoints"

    owner: Mapped[str] = mapped_column(ID, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class BatchWebhook(Base):
    """A batch's own webhook, given at registration: it takes the place of its owner's for that batch."""

    __tablename__ = "batch_webhooks"

    batch_id: Mapped[str] = mapped_column(
        ID, ForeignKey("batches.batch_id", ondelete="CASCADE"), primary_key=True
    )
    url: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WebhookDelivery(Base):
    """One event on its way to one webhook; its id is the event's, sent as `webhook-id` on every attempt.

    A sender takes a due delivery by moving `next_attempt_at` past its own attempt (a lease), so a sender
    killed mid-delivery leaves it due again once that passes, under the same id. No foreign key to the
    batch: a delivery outlives its batch until it is settled.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index(None, "state", "next_attempt_at"),
        Index(None, "owner", "created_at"),
    )

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(ID)
    batch_id: Mapped[str] = mapped_column(ID)
    url: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[str] = mapped_column(String(128))
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(STATE)
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
