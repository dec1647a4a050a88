"""One set of Prometheus counters for a whole worker: every pool process counts, the main process serves.

prometheus_client decides where a metric keeps its value when its `values` module loads: in the
process's memory, or, with `PROMETHEUS_MULTIPROC_DIR` set, in files of that directory named after the
process id. `count_in_shared_directory` therefore runs before ELS's metrics are built (see
worker/__init__.py). Celery's command line loads its plugins first, and Flower's imports prometheus_client,
so the choice is made again by reloading that module. Each prefork child then writes its counts to its own
files, and the exporter in the main process (`serve`) adds up every file, those of replaced children too.
"""

from __future__ import annotations

import importlib
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from els.settings import Settings

log = logging.getLogger(__name__)

ENVIRONMENT = "PROMETHEUS_MULTIPROC_DIR"
_created: list[Path] = []


# Celery's options that take a value, so the word after one is not the subcommand.
_VALUED_OPTIONS = frozenset(
    {"-A", "--app", "-b", "--broker", "--result-backend", "--loader", "--config", "--workdir"}
)


def celery_subcommand(argv: list[str]) -> str | None:
    """The subcommand of a `celery` command line (`worker`, `beat`, `inspect`, ...), or None."""
    words = iter(argv[1:])
    for word in words:
        if word in _VALUED_OPTIONS:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def count_in_shared_directory(settings: Settings, argv: list[str] | None = None) -> Path | None:
    """Point prometheus_client at the worker's metrics directory; None when metrics are off, when this
    process is not a worker (beat, Flower, a `celery inspect` healthcheck), or when it is too late."""
    if settings.worker_metrics_port is None or "els.metrics" in sys.modules:
        return None  # off, or too late: ELS's metrics already keep their values in this process's memory
    if celery_subcommand(sys.argv if argv is None else argv) != "worker":
        return None  # counting into files would leave them behind at every healthcheck
    configured = os.environ.get(ENVIRONMENT) or settings.worker_metrics_dir
    if configured is None:
        directory = Path(tempfile.mkdtemp(prefix="els-worker-metrics-"))
        _created.append(directory)
    else:
        directory = Path(configured)
        directory.mkdir(parents=True, exist_ok=True)
    os.environ[ENVIRONMENT] = str(directory)
    values = sys.modules.get("prometheus_client.values")
    if values is not None:
        importlib.reload(values)  # choose the file-backed values now that the directory is set
    return directory


def shared_directory() -> Path | None:
    """The directory this process counts in, if any."""
    configured = os.environ.get(ENVIRONMENT)
    return Path(configured) if configured else None


def start_afresh(directory: Path) -> None:
    """Delete the counts an earlier run left (the main process, before any child starts; its own stay)."""
    mine = f"_{os.getpid()}.db"
    for leftover in directory.glob("*.db"):
        if not leftover.name.endswith(mine):
            leftover.unlink(missing_ok=True)


def serve(settings: Settings) -> None:
    """Serve `/metrics` from the main process: the sum over every pool process, or this one's alone."""
    from prometheus_client import REGISTRY, CollectorRegistry, start_http_server  # noqa: PLC0415
    from prometheus_client.multiprocess import MultiProcessCollector  # noqa: PLC0415

    # prometheus_client leaves this constructor unannotated; this is the signature ELS relies on.
    add_every_process: Callable[[CollectorRegistry, str], object] = MultiProcessCollector

    port = settings.worker_metrics_port
    if port is None:
        return
    directory = shared_directory()
    if directory is None:
        log.warning(
            "worker metrics show the main process only: ELS's metrics were built before %s was set",
            ENVIRONMENT,
        )
        registry = REGISTRY
    else:
        registry = CollectorRegistry()
        add_every_process(registry, str(directory))
    try:
        start_http_server(port, addr=settings.worker_metrics_host, registry=registry)
    except OSError as error:  # the work goes on without metrics; the line says what to change
        log.error(
            "worker metrics not served on %s:%d: %s; give this worker a free ELS_WORKER_METRICS_PORT",
            settings.worker_metrics_host,
            port,
            error,
        )


def forget_process(pid: int) -> None:
    """A pool child is exiting: its live gauges stop counting (its counters stay in the sum)."""
    from prometheus_client.multiprocess import mark_process_dead  # noqa: PLC0415

    # Unannotated in prometheus_client; this is the signature ELS relies on.
    forget: Callable[[int, str], None] = mark_process_dead
    directory = shared_directory()
    if directory is not None:
        forget(pid, str(directory))


def remove_created() -> None:
    """Delete the temporary directory this process made, once the worker has stopped."""
    while _created:
        shutil.rmtree(_created.pop(), ignore_errors=True)
