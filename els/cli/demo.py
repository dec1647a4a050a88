"""`els demo`: the main job end to end on the embedded default.

A SQLite file under ./.els/, a private Redis when ELS_REDIS_URL is unset, an in-process worker and the
sweep: it registers a batch for the files in DIR (default: the shipped samples), enqueues them, shows
progress as slots fill, and prints the report. Everything it started is stopped before it exits.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer
from celery.contrib.testing.worker import start_worker
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from coordinator import BatchState, BatchStatus
from db.batches import load_report
from db.migrate import upgrade
from db.session import unit_of_work
from els.cli.report import print_report
from els.embedded_redis import private_redis
from els.errors import ElsError
from els.intake import BatchRequest, Upload
from els.intake_errors import UnsupportedMediaTypeError
from els.intake_sync import register_batch, submit_essays
from els.jsontypes import JsonObject
from els.runtime import Runtime, close_runtime, configure_runtime
from els.samples import SAMPLES_DIR, SampleKind, list_samples
from els.settings import Settings
from tasks.sweep import sweep_and_dispatch
from worker.app import create_app

DEMO_OWNER = "demo-teacher"


def demo(
    directory: Annotated[
        Path | None, typer.Argument(help="Folder of essays to upload; default: the shipped samples.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout.")] = False,
    expected: Annotated[
        int | None,
        typer.Option(help="Slots to register; default: one per file (duplicates of samples excluded)."),
    ] = None,
    deadline: Annotated[int, typer.Option(help="Batch deadline in seconds; the sweep closes it then.")] = 60,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the batch to complete.")] = 120.0,
) -> None:
    """Run the main job on the embedded default: register, upload, process, analyse, report."""
    console = Console(stderr=True)
    folder = directory or SAMPLES_DIR
    files = sorted(path for path in folder.iterdir() if path.is_file() and not path.name.startswith("."))
    if not files:
        raise typer.BadParameter(f"no files in {folder}")
    slots = expected or (expected_samples() if directory is None else len(files))
    try:
        report = run_demo(files, slots, deadline, console, timeout)
    except ElsError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        print_report(Console(), report)


def expected_samples() -> int:
    """Slots the shipped samples fill: not the duplicate (no slot) nor the image (refused at intake)."""
    return sum(
        1 for sample in list_samples() if sample.kind not in (SampleKind.DUPLICATE, SampleKind.UNSUPPORTED)
    )


def run_demo(files: list[Path], slots: int, deadline: int, console: Console, timeout: float) -> JsonObject:
    """Start the embedded services, run one batch of `files` through ELS, return its report."""
    # The progress bar is the demo's output; worker logs only when something goes wrong.
    os.environ.setdefault("ELS_LOG_LEVEL", "WARNING")
    with ExitStack() as stack:
        redis_url = os.environ.get("ELS_REDIS_URL") or stack.enter_context(private_redis())
        settings = Settings(redis_url=redis_url)
        console.print(f"Redis {settings.redis_url} · database {settings.database_url}")
        upgrade(settings.database_url)
        app = create_app(settings)
        app.set_current()
        runtime = configure_runtime(settings)
        stack.callback(close_runtime)
        warning = runtime.coordinator.eviction_warning()
        if warning:
            console.print(f"[yellow]{warning}[/yellow]")
        stack.enter_context(
            start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, loglevel="WARNING")
        )
        correlation_id = str(uuid.uuid4())
        batch = register_batch(
            runtime,
            BatchRequest(
                owner=DEMO_OWNER,
                correlation_id=correlation_id,
                expected_count=slots,
                deadline_seconds=deadline,
            ),
        )
        console.print(f"Batch {batch.batch_id}: {len(batch.essay_ids)} slots for {len(files)} files")
        # One file per request, as a teacher's browser would send them.
        for path in files:
            upload = Upload(path.name, "application/octet-stream", path.read_bytes())
            try:
                submit_essays(runtime, DEMO_OWNER, batch.batch_id, [upload], correlation_id=correlation_id)
            except UnsupportedMediaTypeError as refused:
                # What a client gets as 415: refused at intake, before it could take a slot.
                console.print(f"refused {path.name}: {refused.code}")
        follow_until_done(runtime, batch.batch_id, console, timeout)
        with unit_of_work(runtime.engine, read_only=True) as session:
            report = load_report(session, batch.batch_id)
        if report is None:
            raise ElsError(f"batch {batch.batch_id} finished without a report")
        return report


def follow_until_done(runtime: Runtime, batch_id: str, console: Console, timeout: float) -> BatchStatus:
    """Show slots filling until the batch is DONE; the sweep runs meanwhile, as beat would."""
    deadline = time.monotonic() + timeout
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("slots accounted for", total=None)
        next_sweep = time.monotonic()
        while True:
            status = runtime.coordinator.status(batch_id)
            if status is None:
                raise ElsError(f"batch {batch_id} vanished from Redis")
            progress.update(
                task,
                total=status.expected,
                completed=status.assigned + status.failed,
                description=f"{status.state.value:<10} slots accounted for",
            )
            if status.state is BatchState.DONE:
                return status
            if time.monotonic() > deadline:
                raise ElsError(
                    f"batch {batch_id} did not finish within {timeout:.0f} s (state {status.state})"
                )
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + 1.0
                sweep_and_dispatch(runtime)
            time.sleep(0.1)
