"""The Celery worker entry point: `celery -A worker worker|beat|flower` finds `app` here.

The process's settings are read once, here; each pool child builds its runtime from them after the fork.
"""

from __future__ import annotations

from els.settings import Settings
from tasks.app import create_app
from worker.signals import connect_signals

settings = Settings()
app = create_app(settings)
connect_signals(settings, app)

__all__ = ["app", "settings"]
