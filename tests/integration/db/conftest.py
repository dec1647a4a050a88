"""Databases for the persistence tests, built only by running the migrations.

`migrated_engine` runs each test on SQLite (a file of its own) and on PostgreSQL (a database of
this module's own, migrated once per session and emptied before every test).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.engine import make_url

from db.engine import create_db_engine
from db.migrate import upgrade
from db.models import Base
from db.session import unit_of_work
from tests.conftest import POSTGRES_URL, service_missing


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """An empty PostgreSQL database of its own, dropped afterwards; yields its URL."""
    admin_url = make_url(POSTGRES_URL)
    admin_dsn = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"els_db_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        service_missing(f"PostgreSQL not reachable at {POSTGRES_URL}: {error}")
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def empty_every_table(engine: Engine) -> None:
    """Delete every row, children before parents."""
    with unit_of_work(engine) as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))


@pytest.fixture(scope="session")
def migrated_postgres_url() -> Iterator[str]:
    """A PostgreSQL database migrated to head once for the session."""
    with fresh_postgres_database() as url:
        upgrade(url)
        yield url


@pytest.fixture
def postgres_engine(migrated_postgres_url: str) -> Iterator[Engine]:
    """An engine on the migrated PostgreSQL database, emptied for this test."""
    engine = create_db_engine(migrated_postgres_url)
    empty_every_table(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """An engine on a SQLite file of this test's own, migrated to head."""
    url = f"sqlite:///{tmp_path / 'els.db'}"
    upgrade(url)
    engine = create_db_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def migrated_engine(request: pytest.FixtureRequest) -> Engine:
    """The test runs once on SQLite and once on PostgreSQL, each migrated and empty."""
    engine = request.getfixturevalue(f"{request.param}_engine")
    if not isinstance(engine, Engine):
        raise TypeError("engine fixtures yield engines")
    return engine
