"""Submissions: how often the sweep resubmitted each one, and when it may do so again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.columns import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add `resubmissions` (0) and `resubmit_after` (none yet) to every submission."""
    with op.batch_alter_table("submissions") as table:
        table.add_column(
            sa.Column("resubmissions", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        table.add_column(sa.Column("resubmit_after", UtcDateTime(), nullable=True))


def downgrade() -> None:
    """Drop both columns."""
    with op.batch_alter_table("submissions") as table:
        table.drop_column("resubmit_after")
        table.drop_column("resubmissions")
