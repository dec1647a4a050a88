"""Remember purged batch ids, so a batch id (and every event id derived from it) is never reused.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.columns import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the table."""
    op.create_table(
        "retired_batches",
        sa.Column("batch_id", sa.String(128), nullable=False),
        sa.Column("retired_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_retired_batches")),
    )


def downgrade() -> None:
    """Drop the table."""
    op.drop_table("retired_batches")
