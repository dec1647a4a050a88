"""Worker signals: each worker process builds its own clients after the fork."""

from __future__ import annotations

from celery.signals import worker_process_init, worker_process_shutdown

from els.runtime import close_runtime, configure_runtime
from els.settings import Settings


@worker_process_init.connect
def _build_runtime(**_: object) -> None:
    # Connections must not be shared across a fork, so each child builds its own.
    configure_runtime(Settings())


@worker_process_shutdown.connect
def _close_runtime(**_: object) -> None:
    close_runtime()
