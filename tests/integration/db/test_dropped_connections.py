"""No pre-ping per checkout: a connection PostgreSQL dropped fails one statement with a transient error,
the pool is invalidated, and the retry (what a task does) gets a fresh connection."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from db.session import unit_of_work
from tasks.retry import TRANSIENT


def backend_pid(engine: Engine) -> int:
    with unit_of_work(engine, read_only=True) as session:
        pid = session.scalar(text("SELECT pg_backend_pid()"))
    assert isinstance(pid, int)
    return pid


def test_a_dropped_connection_fails_once_as_transient_and_the_retry_reconnects(
    postgres_engine: Engine,
) -> None:
    first = backend_pid(postgres_engine)
    admin = create_engine(postgres_engine.url, poolclass=NullPool)  # a connection outside the pool
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    finally:
        admin.dispose()
    with pytest.raises(OperationalError) as dropped:
        backend_pid(postgres_engine)
    assert isinstance(dropped.value, TRANSIENT)  # a task retries it with backoff
    assert dropped.value.connection_invalidated
    assert backend_pid(postgres_engine) != first  # the retry runs on a new connection
