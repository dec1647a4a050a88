"""The Celery worker entry point: `celery -A worker worker|beat|flower`."""

from __future__ import annotations

from els.settings import Settings
from worker import signals as signals
from worker.app import create_app

app = create_app(Settings())

__all__ = ["app"]
