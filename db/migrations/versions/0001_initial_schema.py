"""Initial schema: batches, contents, submissions, essays, failures and the event outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.columns import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(128)
HASH = sa.String(64)
STATE = sa.String(32)


def upgrade() -> None:
    """Create every table of the first schema."""
    op.create_table(
        "batches",
        sa.Column("batch_id", ID, nullable=False),
        sa.Column("owner", ID, nullable=False),
        sa.Column("expected_count", sa.Integer(), nullable=False),
        sa.Column("essay_ids", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("course_code", sa.String(64), nullable=True),
        sa.Column("deadline_at", UtcDateTime(), nullable=False),
        sa.Column("correlation_id", ID, nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("state", STATE, nullable=False),
        sa.Column("closed_as", STATE, nullable=True),
        sa.Column("registered_at", UtcDateTime(), nullable=False),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.Column("completed_at", UtcDateTime(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("batch_id", name="pk_batches"),
    )
    op.create_index("ix_batches_state_completed_at", "batches", ["state", "completed_at"])

    op.create_table(
        "contents",
        sa.Column("sha256", HASH, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_contents"),
    )

    op.create_table(
        "submissions",
        sa.Column("submission_id", ID, nullable=False),
        sa.Column("batch_id", ID, nullable=False),
        sa.Column("idempotency_key", ID, nullable=True),
        sa.Column("filename", sa.String(512), nullable=False),
        sa.Column("media_type", sa.String(128), nullable=False),
        sa.Column("upload_sha256", HASH, nullable=False),
        sa.Column("text_sha256", HASH, nullable=True),
        sa.Column("content_hash", HASH, nullable=True),
        sa.Column("state", STATE, nullable=False),
        sa.Column("essay_id", ID, nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error_detail", sa.Text(), nullable=True),
        sa.Column("correlation_id", ID, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("submission_id", name="pk_submissions"),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batches.batch_id"],
            name="fk_submissions_batch_id_batches",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["upload_sha256"], ["contents.sha256"], name="fk_submissions_upload_sha256_contents"
        ),
        sa.ForeignKeyConstraint(
            ["text_sha256"], ["contents.sha256"], name="fk_submissions_text_sha256_contents"
        ),
        sa.UniqueConstraint("batch_id", "idempotency_key", name="uq_submissions_batch_id_idempotency_key"),
    )
    op.create_index("ix_submissions_upload_sha256", "submissions", ["upload_sha256"])
    op.create_index("ix_submissions_text_sha256", "submissions", ["text_sha256"])

    op.create_table(
        "essays",
        sa.Column("essay_id", ID, nullable=False),
        sa.Column("batch_id", ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("submission_id", ID, nullable=True),
        sa.Column("content_hash", HASH, nullable=True),
        sa.Column("state", STATE, nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=True),
        sa.Column("analysis", sa.JSON(), nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error_detail", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("essay_id", name="pk_essays"),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.batch_id"], name="fk_essays_batch_id_batches", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.submission_id"], name="fk_essays_submission_id_submissions"
        ),
        sa.UniqueConstraint("batch_id", "position", name="uq_essays_batch_id_position"),
        sa.UniqueConstraint("batch_id", "content_hash", name="uq_essays_batch_id_content_hash"),
        sa.UniqueConstraint("submission_id", name="uq_essays_submission_id"),
    )

    op.create_table(
        "failures",
        sa.Column("submission_id", ID, nullable=False),
        sa.Column("batch_id", ID, nullable=False),
        sa.Column("essay_id", ID, nullable=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("submission_id", name="pk_failures"),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.submission_id"],
            name="fk_failures_submission_id_submissions",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.batch_id"], name="fk_failures_batch_id_batches", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["essay_id"], ["essays.essay_id"], name="fk_failures_essay_id_essays"),
    )
    op.create_index("ix_failures_batch_id", "failures", ["batch_id"])

    op.create_table(
        "outbox_events",
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("routing_key", sa.String(128), nullable=False),
        sa.Column("aggregate_id", ID, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
        sa.Column("published_at", UtcDateTime(), nullable=True),
        sa.Column("parked_at", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("event_id", name="pk_outbox_events"),
    )
    op.create_index(
        "ix_outbox_events_due",
        "outbox_events",
        ["next_attempt_at"],
        postgresql_where=sa.text("published_at IS NULL AND parked_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL AND parked_at IS NULL"),
    )
    op.create_index("ix_outbox_events_aggregate_id", "outbox_events", ["aggregate_id"])


def downgrade() -> None:
    """Drop every table, children first."""
    op.drop_table("outbox_events")
    op.drop_table("failures")
    op.drop_table("essays")
    op.drop_table("submissions")
    op.drop_table("contents")
    op.drop_table("batches")
