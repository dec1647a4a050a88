"""Engines for PostgreSQL (production) and SQLite (the embedded default)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import ConnectionPoolEntry

# Execution option: how a SQLite transaction begins ("IMMEDIATE" takes the write lock up front).
SQLITE_BEGIN = "els_sqlite_begin"


def normalise_url(url: str) -> str:
    """Pin PostgreSQL URLs to psycopg 3, whatever driver they name."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def create_db_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get their folder, WAL, foreign keys and a busy timeout."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite":
        # No pre-ping per checkout: a connection the server dropped fails its statement, SQLAlchemy
        # invalidates the pool on that disconnect, and the task (or the API caller) retries.
        return create_engine(parsed, pool_size=5, max_overflow=5)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"timeout": 30})
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def _configure_sqlite(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
    # WAL lets the API read while a worker writes; foreign keys are off in SQLite unless asked for.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL syncs at checkpoints, not at every commit: a power cut may lose the last
    # transactions, never consistency (docs/operations.md). PostgreSQL is the durable choice.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    # The driver begins transactions lazily and never IMMEDIATE; with its own handling off,
    # SQLAlchemy emits BEGIN itself (`_begin_sqlite`), as SQLAlchemy's SQLite notes recommend.
    dbapi_connection.isolation_level = None


def _begin_sqlite(connection: Connection) -> None:
    # A deferred transaction that reads and then writes fails at once with "database is locked"
    # when another writer committed in between (the busy timeout cannot help it), so writing
    # units begin IMMEDIATE: they wait for the write lock up front, then hold it to commit.
    mode = connection.get_execution_options().get(SQLITE_BEGIN)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")
