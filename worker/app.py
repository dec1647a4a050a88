"""The Celery application: `celery -A worker worker|beat|flower` finds `app` here."""

from __future__ import annotations

from celery import Celery

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
