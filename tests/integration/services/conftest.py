"""A runtime on the real Redis, PostgreSQL and broker, with no worker: dispatched messages stay queued.

Each test has a key prefix and a queue of its own, so the messages a use case dispatched can be read
back from the broker's queue (the Redis list named after the queue).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from celery._state import get_current_app
from sqlalchemy import Engine

import bootstrap
from db.engine import create_db_engine
from els.settings import Settings
from services.runtime import Runtime
from tests.integration.services.support import own_sqlite_runtime


@pytest.fixture
def runtime(worker_settings: Settings, key_prefix: str, redis_client: redis.Redis) -> Iterator[Runtime]:
    """A runtime of this test's own: its key prefix, its queue, the session's migrated PostgreSQL."""
    settings = worker_settings.model_copy(update={"key_prefix": key_prefix, "queue": f"{key_prefix}-queue"})
    previous = get_current_app()
    built = bootstrap.build_runtime(settings, bootstrap.create_app(settings))
    previous.set_current()  # creating an app makes it current in this thread; later tests need theirs
    yield built
    built.close()
    redis_client.delete(settings.queue, settings.celery_control_queue)


@pytest.fixture
def sqlite_runtime(worker_settings: Settings, key_prefix: str, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime of its own on a migrated SQLite file: this test's key prefix, queue and database."""
    with own_sqlite_runtime(worker_settings, key_prefix, tmp_path) as built:
        yield built


@pytest.fixture
def broken_engine(tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database with no tables: every write through it fails as an outage would."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'unmigrated.db'}")
    yield engine
    engine.dispose()
