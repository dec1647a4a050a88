"""Worker signals: ELS's logging, a runtime per process after the fork, a loud eviction warning."""

from __future__ import annotations

import logging
import os

from celery import Celery
from celery.signals import (
    setup_logging,
    worker_init,
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
    worker_shutdown,
)
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

import bootstrap
from db.migrate import schema_problem
from els.logs import configure_logging
from els.settings import Settings
from essays.analysis import preload
from worker import multiprocess

log = logging.getLogger(__name__)


def connect_signals(settings: Settings, app: Celery) -> None:
    """Wire this process's worker signals to `settings` and `app`."""

    @setup_logging.connect(weak=False)
    def _configure_logging(**_: object) -> None:
        # Connected, so Celery leaves the root logger to ELS: JSON lines off a terminal, with the work's ids.
        configure_logging(settings.log_level, settings.log_json)

    def ours(sender: object) -> bool:
        # Another app's worker in this process (a test's, the demo's) installs its own runtime.
        return getattr(sender, "app", None) is app

    @worker_init.connect(weak=False)
    def _install_runtime(sender: object = None, **_: object) -> None:
        if not ours(sender):
            return
        # The main process runs tasks itself with the solo and threads pools. Nothing connects yet, so a
        # prefork child inherits no socket from it.
        runtime = bootstrap.build_runtime(settings, app)
        problem = schema_problem(runtime.engine)
        runtime.engine.dispose()  # the check's connection stays in this process, not in the children
        if problem is not None:
            log.critical("the worker cannot start: %s", problem)
            runtime.close()
            raise SystemExit(2)
        bootstrap.install(runtime)
        # Before the fork: prefork children inherit the dictionaries instead of each reading its own.
        preload(settings.default_language)
        directory = multiprocess.shared_directory()
        if directory is not None:
            multiprocess.start_afresh(directory)

    @worker_process_init.connect(weak=False)
    def _rebuild_runtime_after_fork(**_: object) -> None:
        # Connections must not be shared across a fork, so each child builds its own (and leaves the
        # inherited one alone: closing it could close sockets the parent still uses). Built now when it
        # can be; a child forked while Redis or SQL is down builds it at its first task, which retries.
        bootstrap.install_on_first_use(settings, app)
        try:
            bootstrap.installed_runtime()
        except (RedisError, OSError, SQLAlchemyError) as error:
            log.warning("this worker process builds its runtime at its first task: %s", error)

    @worker_process_shutdown.connect(weak=False)
    def _close_runtime(**_: object) -> None:
        multiprocess.forget_process(os.getpid())
        bootstrap.install(None)

    @worker_shutdown.connect(weak=False)
    def _remove_metrics_directory(sender: object = None, **_: object) -> None:
        if ours(sender):
            multiprocess.remove_created()

    @worker_ready.connect(weak=False)
    def _check_redis(sender: object = None, **_: object) -> None:
        if not ours(sender):
            return
        warning = bootstrap.installed_runtime().coordinator.eviction_warning()
        if warning:
            log.error("REDIS MAY EVICT LIVE BATCH STATE: %s", warning)
        multiprocess.serve(settings)
