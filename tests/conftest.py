"""Real-service fixtures: Redis, PostgreSQL, SQLite and an in-process Celery worker.

Tests isolate themselves by key prefix (Redis), by a database created for the session (PostgreSQL),
by a file per test (SQLite) and by a queue name per session (Celery). When `CI` is set, a service that
does not answer fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from celery import Celery
from celery.contrib.testing.worker import start_worker
from celery.worker.worker import WorkController
from kombu import Connection
from kombu.exceptions import OperationalError
from sqlalchemy.engine import make_url

import bootstrap
from db.migrate import upgrade
from els.settings import Settings
from tasks.app import create_app

REDIS_URL = os.environ.get("ELS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RABBITMQ_URL = os.environ.get("ELS_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
POSTGRES_URL = os.environ.get("ELS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

# Uploads of the whole run (and of every worker process it starts) go to one directory of its own,
# not to the checkout's .els/blobs; a test that needs its own store says so.
BLOB_STORE = Path(tempfile.mkdtemp(prefix="els-test-blobs-"))
os.environ.setdefault("ELS_BLOB_STORE", str(BLOB_STORE))


@pytest.fixture(scope="session", autouse=True)
def _remove_the_runs_blobs() -> Iterator[None]:
    yield
    shutil.rmtree(BLOB_STORE, ignore_errors=True)


def service_missing(reason: str) -> None:
    """Skip the test, or fail it in CI where every service must be there."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of a real Redis server that answers PING."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        service_missing(f"Redis not reachable at {REDIS_URL}: {error}")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """URL of a real RabbitMQ server that accepts a connection."""
    try:
        with Connection(RABBITMQ_URL, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1)
    except (OSError, OperationalError) as error:
        service_missing(f"RabbitMQ not reachable at {RABBITMQ_URL}: {error}")
    return RABBITMQ_URL


@pytest.fixture
def key_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"elstest-{uuid.uuid4().hex[:10]}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A sync client on the test Redis (bytes replies, as the coordinator uses it)."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database created for this test session and dropped after it."""
    admin_url = make_url(POSTGRES_URL)
    admin_dsn = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"els_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        service_missing(f"PostgreSQL not reachable at {POSTGRES_URL}: {error}")
    yield admin_url.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite database file of this test's own."""
    return f"sqlite:///{tmp_path / 'els.db'}"


@pytest.fixture(scope="session")
def worker_settings(redis_url: str, postgres_url: str) -> Settings:
    """Settings of the session's in-process worker: real Redis, real PostgreSQL, a queue of its own."""
    tag = uuid.uuid4().hex[:10]
    upgrade(postgres_url)
    return Settings(
        redis_url=redis_url,
        database_url=postgres_url,
        key_prefix=f"elstest-w{tag}",
        queue=f"els-test-{tag}",
    )


@pytest.fixture(scope="session")
def celery_app(worker_settings: Settings) -> Iterator[Celery]:
    """The ELS Celery app configured for the test services, current for the session."""
    app = create_app(worker_settings)
    app.set_current()
    app.set_default()
    bootstrap.install(bootstrap.build_runtime(worker_settings, app))
    yield app
    bootstrap.install(None)


@pytest.fixture(scope="session")
def els_worker(celery_app: Celery) -> Iterator[WorkController]:
    """An in-process worker consuming the session's queue on the real Redis broker."""
    with start_worker(
        celery_app,
        pool="threads",
        concurrency=4,
        perform_ping_check=False,
        shutdown_timeout=30,
        loglevel="WARNING",
    ) as controller:
        yield controller
