"""Fixtures of the reliability runs: a private Redis, settings for worker processes, the test-side runtime."""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery
from celery._state import get_current_app

from bootstrap import build_runtime
from cli.embedded_redis import NO_PERSISTENCE, RedisServer, find_redis_server
from db.migrate import upgrade
from els.errors import ConfigurationError
from els.settings import Settings
from services.runtime import Runtime
from tasks.app import create_app
from tests.conftest import service_missing
from tests.e2e.conftest import delete_queues


@pytest.fixture
def chaos_seed() -> int:
    """The run's seed: `ELS_CHAOS_SEED` to replay a run, else a fresh one (printed either way)."""
    seed = int(os.environ.get("ELS_CHAOS_SEED") or random.SystemRandom().randrange(1 << 32))
    print(f"\nELS_CHAOS_SEED={seed}")
    return seed


@pytest.fixture
def chaos_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of the run's own, persisted as docker-compose.yml persists it (append-only file, everysec)."""
    directory = tmp_path / "redis"
    directory.mkdir()
    options = (*NO_PERSISTENCE[:2], "--appendonly", "yes", "--appendfsync", "everysec")
    try:
        binary = find_redis_server()
    except ConfigurationError as error:
        service_missing(f"no redis-server for the reliability runs: {error}")
        raise
    with RedisServer(directory, options, binary=binary) as server:
        yield server


@pytest.fixture
def chaos_broker(request: pytest.FixtureRequest) -> str:
    """The run's broker: "redis" (its own Redis) unless a test asks for "rabbitmq" indirectly."""
    broker: str = getattr(request, "param", "redis")
    return broker


@pytest.fixture
def chaos_settings(
    chaos_redis: RedisServer, postgres_url: str, chaos_broker: str, request: pytest.FixtureRequest
) -> Iterator[Settings]:
    """Settings shared by the test process and the worker processes of one run."""
    upgrade(postgres_url)
    tag = uuid.uuid4().hex[:8]
    broker_url = request.getfixturevalue("rabbitmq_url") if chaos_broker == "rabbitmq" else None
    settings = Settings(
        redis_url=chaos_redis.url,
        broker_url=broker_url,
        database_url=postgres_url,
        key_prefix=f"chaos-{tag}",
        queue=f"els-chaos-{tag}",
        events_exchange=f"els.events.chaos-{tag}",
        # Short enough that work a killed worker held comes back within the run, long enough for any task.
        visibility_timeout=20,
        task_time_limit=15,
        task_soft_time_limit=12,
        stuck_after_seconds=15,
    )
    yield settings
    if chaos_broker == "rabbitmq":
        delete_queues(settings)


@pytest.fixture
def chaos_runtime(chaos_settings: Settings) -> Iterator[Runtime]:
    """The test process's runtime, with a Celery app of the run's own current while the test runs."""
    previous: Celery = get_current_app()
    app = create_app(chaos_settings)
    app.set_current()
    runtime = build_runtime(chaos_settings)
    try:
        yield runtime
    finally:
        runtime.close()
        app.close()
        previous.set_current()
