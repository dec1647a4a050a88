"""The Celery application factory; `worker/` holds the instance `celery -A worker` finds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from celery import Celery
from celery.contrib.testing.worker import start_worker

import celeryconfig
from els.errors import ConfigurationError
from els.settings import Settings

TASK_MODULES = ["tasks.health", "tasks.pipeline", "tasks.relay", "tasks.sweep"]


def create_app(settings: Settings) -> Celery:
    """A Celery app configured from `settings`; creating it opens no connection."""
    if settings.task_time_limit >= settings.visibility_timeout:
        raise ConfigurationError(
            "ELS_TASK_TIME_LIMIT must be below ELS_VISIBILITY_TIMEOUT, or a slow task is redelivered while "
            "it still runs",
            details={
                "task_time_limit": settings.task_time_limit,
                "visibility_timeout": settings.visibility_timeout,
            },
        )
    app = Celery("els", include=TASK_MODULES)
    app.conf.update(celeryconfig.build(settings))
    return app


@contextmanager
def in_process_worker(app: Celery, concurrency: int = 2) -> Iterator[None]:
    """A worker for `app` on threads of this process, for the demo and tests; stopped on exit."""
    with start_worker(
        app, pool="threads", concurrency=concurrency, perform_ping_check=False, loglevel="WARNING"
    ):
        yield
