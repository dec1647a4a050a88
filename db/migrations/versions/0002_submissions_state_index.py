"""Index submissions by state and last touch, for the sweep that re-enqueues stale ones.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

INDEX = "ix_submissions_state_updated_at"


def upgrade() -> None:
    """Add the index."""
    op.create_index(INDEX, "submissions", ["state", "updated_at"])


def downgrade() -> None:
    """Drop the index."""
    op.drop_index(INDEX, table_name="submissions")
