"""Count how often processing of a submission started, so an upload that kills its worker stops coming back.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add `submissions.attempts`, 0 for every row already stored."""
    op.add_column(
        "submissions", sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0"))
    )


def downgrade() -> None:
    """Drop `submissions.attempts`."""
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("attempts")
