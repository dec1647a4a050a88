"""Worker signals: ELS's logging, per-process clients after the fork, a loud eviction warning."""

from __future__ import annotations

import logging

from celery.signals import setup_logging, worker_process_init, worker_process_shutdown, worker_ready
from prometheus_client import start_http_server

from els.logs import configure_logging
from els.runtime import close_runtime, configure_runtime, get_runtime
from els.settings import Settings

log = logging.getLogger(__name__)


@setup_logging.connect
def _configure_logging(**_: object) -> None:
    # Connected, so Celery leaves the root logger to ELS: JSON lines off a terminal, with the work's ids.
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)


@worker_process_init.connect
def _build_runtime(**_: object) -> None:
    # Connections must not be shared across a fork, so each child builds its own.
    configure_runtime(Settings())


@worker_process_shutdown.connect
def _close_runtime(**_: object) -> None:
    close_runtime()


@worker_ready.connect
def _check_redis(**_: object) -> None:
    runtime = get_runtime()
    warning = runtime.coordinator.eviction_warning()
    if warning:
        log.error("REDIS MAY EVICT LIVE BATCH STATE: %s", warning)
    if runtime.settings.worker_metrics_port:
        # Served from the worker's main process: counters are complete with `--pool threads` or solo.
        start_http_server(runtime.settings.worker_metrics_port, addr=runtime.settings.worker_metrics_host)
