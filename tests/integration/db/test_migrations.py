"""The migrations alone build the schema, on PostgreSQL and SQLite, and match the models exactly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Engine, Integer, MetaData, inspect

from db.engine import create_db_engine
from db.migrate import current, downgrade, head, upgrade
from db.models import Base
from tests.integration.db.conftest import fresh_postgres_database

TABLES = {
    "batches",
    "contents",
    "submissions",
    "essays",
    "failures",
    "outbox_events",
    "retired_batches",
    "webhook_endpoints",
    "batch_webhooks",
    "webhook_deliveries",
}


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with fresh_postgres_database() as url:
        yield url


def drift(engine: Engine, metadata: MetaData) -> list[object]:
    """What autogenerate would change to make the database match `metadata`."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_migrations_build_every_table_from_empty(empty_database_url: str) -> None:
    assert current(empty_database_url) is None
    upgrade(empty_database_url)
    assert current(empty_database_url) == head()
    engine = create_db_engine(empty_database_url)
    try:
        assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrading_at_head_again_changes_nothing(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    upgrade(empty_database_url)
    assert current(empty_database_url) == head()


def test_downgrade_to_base_and_up_again_round_trips(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    downgrade(empty_database_url, "base")
    engine = create_db_engine(empty_database_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(empty_database_url)
        assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
    finally:
        engine.dispose()


def test_models_and_migrations_do_not_drift(migrated_engine: Engine) -> None:
    assert drift(migrated_engine, Base.metadata) == []


def test_drift_check_sees_a_column_the_migrations_lack(migrated_engine: Engine) -> None:
    # The check above must be able to fail: a model column no migration adds is reported.
    metadata = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(metadata)
    metadata.tables["essays"].append_column(Column("grade", Integer, nullable=True))
    changes = drift(migrated_engine, metadata)
    assert [change[0] for change in changes if isinstance(change, tuple)] == ["add_column"]
