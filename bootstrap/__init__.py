"""The composition root: builds the settings' clients and ports once per process and hands out a Runtime.

Entry points (the API factory, the worker, the CLI) call `build_runtime`; the worker and the demo also
`install` it, so the tasks of their process run with it. Nothing here connects until first use.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, closing

import redis
from celery import Celery
from redis.cluster import RedisCluster
from redis.exceptions import RedisClusterException

from coordinator import Coordinator
from coordinator.quota import QuotaLedger
from coordinator.ratelimit import RedisRateLimiter, parse_rule
from db.blobs import open_blob_store
from db.engine import create_db_engine
from els.settings import Settings
from services import limits
from services.ports import Publisher
from services.runtime import Runtime
from tasks import installed
from tasks.app import create_app
from tasks.dispatch import CeleryDispatcher
from tasks.publisher import KombuPublisher

__all__ = ["build_runtime", "create_app", "install", "installed_runtime", "rate_limiter", "redis_client"]


def redis_client(settings: Settings) -> redis.Redis | RedisCluster:
    """The Redis client for `settings` (a cluster client with `ELS_REDIS_CLUSTER`)."""
    if settings.redis_cluster:
        return RedisCluster.from_url(settings.redis_url)
    return redis.Redis.from_url(settings.redis_url, health_check_interval=30)


def build_runtime(settings: Settings, app: Celery | None = None) -> Runtime:
    """The runtime for `settings`, dispatching through `app` (a new app for these settings by default)."""
    celery = app if app is not None else create_app(settings)
    client = redis_client(settings)
    engine = create_db_engine(settings.database_url)

    def open_publisher() -> AbstractContextManager[Publisher]:
        return closing(KombuPublisher(settings.celery_broker_url, settings.events_exchange))

    return Runtime(
        settings=settings,
        coordinator=Coordinator.from_settings(settings, client),
        engine=engine,
        blobs=open_blob_store(settings.blob_store, s3_endpoint_url=settings.s3_endpoint_url),
        dispatcher=CeleryDispatcher(celery, settings.queue),
        open_publisher=open_publisher,
        closers=(client.close, engine.dispose),
        quotas=QuotaLedger.from_settings(settings, client),
        limiter=rate_limiter(settings, client),
    )


def rate_limiter(settings: Settings, client: redis.Redis | RedisCluster) -> RedisRateLimiter:
    """The request rate limits of `settings`, counted in the Redis `client` talks to."""
    rules = {
        limits.PER_TOKEN: parse_rule("ELS_RATE_LIMIT_PER_TOKEN", settings.rate_limit_per_token),
        limits.PER_ADDRESS: parse_rule("ELS_RATE_LIMIT_PER_ADDRESS", settings.rate_limit_per_address),
        limits.AUTH_FAILURES: parse_rule("ELS_AUTH_FAILURES_PER_ADDRESS", settings.auth_failures_per_address),
    }
    standalone = client if isinstance(client, redis.Redis) else None
    return RedisRateLimiter.on_client(standalone, settings.redis_url, settings.key_prefix, rules)


def install(runtime: Runtime | None, *, close_previous: bool = True) -> None:
    """Make `runtime` the one this process's tasks run with, closing the one it replaces."""
    previous = installed.install(runtime)
    if close_previous and previous is not None and previous is not runtime:
        previous.close()


def install_on_first_use(settings: Settings, app: Celery | None = None) -> None:
    """Install no runtime now, but build one from `settings` when a task first asks for it.

    For a worker's pool child: the runtime it inherited shares the parent's sockets, and its own may not
    build while a Redis node or the database is down. A Redis Cluster that cannot be reached raises
    `RedisClusterException`, which no task retries, so it becomes a `redis.ConnectionError`, which every
    task does.
    """

    def build() -> Runtime:
        try:
            return build_runtime(settings, app)
        except RedisClusterException as error:
            raise redis.ConnectionError(f"the Redis Cluster cannot be reached: {error}") from error

    installed.install(None)  # never the parent's connections, and never closed here: the parent owns them
    installed.install_on_first_use(build)


def installed_runtime() -> Runtime:
    """The runtime this process's tasks run with."""
    return installed.runtime()
