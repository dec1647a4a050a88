"""The Celery worker entry point: `celery -A worker worker|beat|flower` finds `app` here.

The process's settings are read once, here; each pool child builds its runtime from them after the fork.
Metrics are pointed at the pool's shared directory before the imports below load prometheus_client.
"""

from __future__ import annotations

from els.settings import Settings
from worker.multiprocess import count_in_shared_directory

settings = Settings()
count_in_shared_directory(settings)

from tasks.app import create_app  # noqa: E402
from worker.signals import connect_signals  # noqa: E402

app = create_app(settings)
connect_signals(settings, app)

__all__ = ["app", "settings"]
