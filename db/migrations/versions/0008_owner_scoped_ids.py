"""Batch and essay ids become owner-scoped: every stored id gains its owner's tag, `<16 hex>~` (`els.ids`).

Each owner's batches are rewritten in SQL: the batch id and the essay ids in every table that holds
them, the essay ids a batch lists, and its stored report. Redis state cannot be rewritten, so the
upgrade refuses to run while a batch is not finished (DONE or cancelled): let open batches finish, or
cancel them, first. Event payloads already queued keep the ids they were written with, and purged
batch ids (`retired_batches`) stay as they were: an old unscoped id can never equal a new scoped one.
The downgrade strips the tags again, and fails on a primary key if two owners have come to share an id.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from els.jsontypes import JsonValue

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ID = sa.String(128)
FINISHED = ("done", "cancelled")
ID_FIELDS = frozenset({"batch_id", "essay_id", "of_essay_id", "essay_ids", "missing_essay_ids"})
TAG_CHARS = 16  # as els.ids.owner_tag, frozen here: a migration keeps the rule it was written with

batches = sa.table(
    "batches",
    sa.column("batch_id", ID),
    sa.column("owner", ID),
    sa.column("state", sa.String(32)),
    sa.column("essay_ids", sa.JSON()),
    sa.column("report", sa.JSON()),
)
submissions = sa.table("submissions", sa.column("batch_id", ID), sa.column("essay_id", ID))
essays = sa.table("essays", sa.column("batch_id", ID), sa.column("essay_id", ID))
failures = sa.table("failures", sa.column("batch_id", ID), sa.column("essay_id", ID))
batch_webhooks = sa.table("batch_webhooks", sa.column("batch_id", ID))
deliveries = sa.table("webhook_deliveries", sa.column("batch_id", ID), sa.column("owner", ID))
outbox = sa.table("outbox_events", sa.column("aggregate_id", ID))

# Foreign keys onto the ids being rewritten: PostgreSQL checks each statement, so they are dropped
# for the rewrite and made again (SQLite migrations run with foreign keys off).
FOREIGN_KEYS = (
    ("fk_submissions_batch_id_batches", "submissions", "batches", "batch_id", "batch_id", "CASCADE"),
    ("fk_essays_batch_id_batches", "essays", "batches", "batch_id", "batch_id", "CASCADE"),
    ("fk_failures_batch_id_batches", "failures", "batches", "batch_id", "batch_id", "CASCADE"),
    ("fk_failures_essay_id_essays", "failures", "essays", "essay_id", "essay_id", None),
    ("fk_batch_webhooks_batch_id_batches", "batch_webhooks", "batches", "batch_id", "batch_id", "CASCADE"),
)


def _prefix(owner: str) -> str:
    return hashlib.sha256(owner.encode()).hexdigest()[:TAG_CHARS] + "~"


def upgrade() -> None:
    """Give every finished batch's ids its owner's tag; refuse while any batch is unfinished."""
    connection = op.get_bind()
    unfinished = connection.scalar(
        sa.select(sa.func.count()).select_from(batches).where(batches.c.state.not_in(FINISHED))
    )
    if unfinished:
        raise RuntimeError(
            f"{unfinished} batches are not finished; ids become owner-scoped in this upgrade and live "
            "batches cannot be rewritten in Redis: let them finish (or cancel them), then upgrade again"
        )
    _rewrite(lambda prefix, value: value if value.startswith(prefix) else prefix + value)


def downgrade() -> None:
    """Strip the owners' tags from every id again."""
    _rewrite(lambda prefix, value: value.removeprefix(prefix))


def _rewrite(change: Callable[[str, str], str]) -> None:
    connection = op.get_bind()
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        for name, source, _, _, _, _ in FOREIGN_KEYS:
            op.drop_constraint(name, source, type_="foreignkey")
    rows = connection.execute(
        sa.select(batches.c.batch_id, batches.c.owner, batches.c.essay_ids, batches.c.report)
    )
    for batch_id, owner, essay_ids, report in list(rows):
        prefix = _prefix(owner)
        new_batch_id = change(prefix, batch_id)
        essay_map = {essay_id: change(prefix, essay_id) for essay_id in essay_ids}
        _rewrite_batch(batch_id, new_batch_id, essay_map)
        ids = {batch_id: new_batch_id, **essay_map}
        connection.execute(
            batches.update()
            .where(batches.c.batch_id == batch_id)
            .values(
                batch_id=new_batch_id,
                essay_ids=[essay_map[essay_id] for essay_id in essay_ids],
                report=None if report is None else _renamed(report, ids),
            )
        )
    if postgres:
        for name, source, target, column, remote, ondelete in FOREIGN_KEYS:
            op.create_foreign_key(name, source, target, [column], [remote], ondelete=ondelete)


def _rewrite_batch(batch_id: str, new_batch_id: str, essay_map: dict[str, str]) -> None:
    connection = op.get_bind()
    for child in (submissions, essays, failures):
        for old, new in essay_map.items():
            connection.execute(
                child.update()
                .where(child.c.batch_id == batch_id, child.c.essay_id == old)
                .values(essay_id=new)
            )
        connection.execute(child.update().where(child.c.batch_id == batch_id).values(batch_id=new_batch_id))
    for child in (batch_webhooks, deliveries):
        connection.execute(child.update().where(child.c.batch_id == batch_id).values(batch_id=new_batch_id))
    connection.execute(
        outbox.update().where(outbox.c.aggregate_id == batch_id).values(aggregate_id=new_batch_id)
    )


def _renamed(value: JsonValue, ids: dict[str, str], *, is_id: bool = False) -> JsonValue:
    # The batch's ids in a stored report, renamed where a field holds ids; other strings stay as they are.
    if isinstance(value, str):
        return ids.get(value, value) if is_id else value
    if isinstance(value, list):
        return [_renamed(item, ids, is_id=is_id) for item in value]
    if isinstance(value, dict):
        return {key: _renamed(item, ids, is_id=key in ID_FIELDS) for key, item in value.items()}
    return value
