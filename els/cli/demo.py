"""`els demo`: the main job end to end on the embedded default."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from celery.contrib.testing.worker import start_worker
from rich.console import Console

from els.embedded_redis import private_redis
from els.runtime import close_runtime, configure_runtime
from els.settings import Settings
from tasks.health import ping
from worker.app import create_app


@contextmanager
def embedded_settings(stack: ExitStack) -> Iterator[Settings]:
    """Settings from the environment, with a private Redis when `ELS_REDIS_URL` is unset."""
    if os.environ.get("ELS_REDIS_URL"):
        yield Settings()
        return
    url = stack.enter_context(private_redis())
    yield Settings(redis_url=url)


def demo() -> None:
    """Run the main job on the embedded default: private Redis, SQLite, an in-process worker."""
    console = Console(stderr=True)
    with ExitStack() as stack:
        settings = stack.enter_context(embedded_settings(stack))
        console.print(f"Redis: {settings.redis_url}  database: {settings.database_url}")
        app = create_app(settings)
        app.set_current()
        configure_runtime(settings)
        stack.callback(close_runtime)
        stack.enter_context(start_worker(app, pool="threads", perform_ping_check=False, loglevel="WARNING"))
        reply = ping.delay().get(timeout=30)
        console.print(f"worker answered: {reply}")
