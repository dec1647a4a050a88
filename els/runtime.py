"""The composition root: the clients one process uses, built once from the settings and passed down."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import redis
from redis.cluster import RedisCluster
from sqlalchemy import Engine

from coordinator import Coordinator
from db.engine import create_db_engine
from els.settings import Settings


@dataclass(frozen=True)
class Runtime:
    """Everything a task or command needs to reach the outside world."""

    settings: Settings
    redis: redis.Redis | RedisCluster
    engine: Engine
    coordinator: Coordinator

    def close(self) -> None:
        """Release every connection this runtime holds."""
        self.redis.close()
        self.engine.dispose()


def redis_client(settings: Settings) -> redis.Redis | RedisCluster:
    """The Redis client for `settings` (a cluster client with `ELS_REDIS_CLUSTER`); connects on first use."""
    if settings.redis_cluster:
        return RedisCluster.from_url(settings.redis_url)
    return redis.Redis.from_url(settings.redis_url, health_check_interval=30)


def build_runtime(settings: Settings) -> Runtime:
    """Build the clients for `settings`; nothing connects until first use."""
    client = redis_client(settings)
    return Runtime(
        settings=settings,
        redis=client,
        engine=create_db_engine(settings.database_url),
        coordinator=Coordinator.from_settings(settings, client),
    )


_lock = threading.Lock()
_current: Runtime | None = None


def configure_runtime(settings: Settings) -> Runtime:
    """Replace this process's runtime (after a fork, or in a test) with one built for `settings`."""
    global _current  # noqa: PLW0603 - the process's one composition root
    with _lock:
        if _current is not None:
            _current.close()
        _current = build_runtime(settings)
        return _current


def get_runtime() -> Runtime:
    """This process's runtime, built from the environment on first use."""
    with _lock:
        current = _current
    return current if current is not None else configure_runtime(Settings())


def close_runtime() -> None:
    """Close and forget this process's runtime."""
    global _current  # noqa: PLW0603 - the process's one composition root
    with _lock:
        if _current is not None:
            _current.close()
        _current = None
