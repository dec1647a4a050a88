"""The harness reaches each real service it promises."""

from __future__ import annotations

import redis
from celery.exceptions import TimeoutError as CeleryTimeoutError
from celery.worker import state as worker_state
from celery.worker.worker import WorkController
from sqlalchemy import text

from db.engine import create_db_engine
from els.settings import Settings
from tasks.health import ping


def test_redis_answers_and_runs_lua(redis_client: redis.Redis, key_prefix: str) -> None:
    key = f"{key_prefix}:counter"
    reply = redis_client.eval("return redis.call('INCRBY', KEYS[1], ARGV[1])", 1, key, 41)
    assert reply == 41


def test_postgres_answers(postgres_url: str) -> None:
    engine = create_db_engine(postgres_url)
    with engine.connect() as connection:
        assert connection.execute(text("select 1 + 1")).scalar_one() == 2
    engine.dispose()


def test_sqlite_file_is_created_with_foreign_keys(sqlite_url: str) -> None:
    engine = create_db_engine(sqlite_url)
    with engine.connect() as connection:
        assert connection.execute(text("pragma foreign_keys")).scalar_one() == 1
    engine.dispose()


def busy_with(worker: WorkController) -> str:
    """What the worker is doing right now, for a failure message."""
    active = [f"{request.name}{request.args}" for request in list(worker_state.active_requests)]
    reserved = [request.name for request in list(worker_state.reserved_requests)]
    return f"active: {active}; reserved: {reserved}"


def test_task_runs_through_in_process_worker(
    els_worker: WorkController, worker_settings: Settings, redis_client: redis.Redis
) -> None:
    # The session's queue may still hold earlier tests' work, which the ping waits behind (FIFO).
    waiting = redis_client.llen(worker_settings.queue)
    result = ping.delay()
    try:
        assert result.get(timeout=120) == "pong"
    except CeleryTimeoutError as error:
        raise AssertionError(
            f"no pong within 120 s ({waiting} messages queued before it), {busy_with(els_worker)}"
        ) from error
