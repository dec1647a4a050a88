"""`els demo`: the main job end to end on the embedded default.

A SQLite file under ./.els/, a private Redis when ELS_REDIS_URL is unset, an in-process worker and the
sweep: it registers a batch for the files in DIR (default: the shipped samples), enqueues them, shows
progress as slots fill, and prints the report. Everything it started is stopped before it exits.

A file refused at intake (a type ELS cannot read, too large) stays out of the batch, as it would over
the API (415 or 413, nothing stored): the demo registers one slot per file intake accepts. Once every
accepted file is settled (assigned, failed, duplicate), a batch still open is closed, so a folder with a
duplicate or an empty file finishes without waiting for its deadline. URLs are printed without passwords.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit, urlunsplit

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import bootstrap
from cli.embedded_redis import private_redis
from cli.report import print_document
from cli.samples import SAMPLES_DIR, SampleKind, list_samples
from coordinator import BatchProgress, BatchState
from db.migrate import upgrade
from els.errors import ElsError, PayloadTooLargeError, UnsupportedMediaTypeError
from els.jsontypes import JsonObject
from els.settings import Settings
from services.closing import close_batch
from services.intake import BatchRequest, Upload, check_upload, register_batch, submit_essays
from services.queries import batch_report, owned_progress
from services.report_document import BatchDocument, batch_document
from services.runtime import Runtime
from services.sweep import sweep
from tasks.app import create_app, in_process_worker

DEMO_OWNER = "demo-teacher"


def demo(
    directory: Annotated[
        Path | None, typer.Argument(help="Folder of essays to upload; default: the shipped samples.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout.")] = False,
    expected: Annotated[
        int | None,
        typer.Option(
            help="Slots to register; default: one per file intake accepts (for the samples, not their "
            "duplicate either)."
        ),
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
    slots = expected or (expected_samples() if directory is None else None)
    try:
        report, document = run_demo(files, slots, deadline, console, timeout)
    except ElsError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        print_document(Console(), document)


def expected_samples() -> int:
    """Slots the shipped samples fill: not the duplicate (no slot) nor the image (refused at intake)."""
    return sum(
        1 for sample in list_samples() if sample.kind not in (SampleKind.DUPLICATE, SampleKind.UNSUPPORTED)
    )


def mask_url(url: str) -> str:
    """`url` with any password replaced by ***, fit to print."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port is not None else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


def run_demo(
    files: list[Path], slots: int | None, deadline: int, console: Console, timeout: float
) -> tuple[JsonObject, BatchDocument]:
    """Start the embedded services, run one batch of `files` through ELS, return its report and document.

    `slots` None: one per file intake accepts.
    """
    # The progress bar is the demo's output; worker logs only when something goes wrong.
    os.environ.setdefault("ELS_LOG_LEVEL", "WARNING")
    with ExitStack() as stack:
        redis_url = os.environ.get("ELS_REDIS_URL") or stack.enter_context(private_redis())
        settings = Settings(redis_url=redis_url)
        console.print(f"Redis {mask_url(settings.redis_url)} · database {mask_url(settings.database_url)}")
        accepted = accepted_uploads(settings, files, console)
        if not accepted:
            raise ElsError("no file in the folder is one ELS can read (text, Markdown, .docx or PDF)")
        upgrade(settings.database_url)
        app = create_app(settings)
        runtime = bootstrap.build_runtime(settings, app)
        bootstrap.install(runtime)
        stack.callback(bootstrap.install, None)
        warning = runtime.coordinator.eviction_warning()
        if warning:
            console.print(f"[yellow]{warning}[/yellow]")
        stack.enter_context(in_process_worker(app, concurrency=2))
        correlation_id = str(uuid.uuid4())
        batch = register_batch(
            runtime,
            BatchRequest(
                owner=DEMO_OWNER,
                correlation_id=correlation_id,
                expected_count=slots or len(accepted),
                deadline_seconds=deadline,
            ),
        )
        console.print(f"Batch {batch.batch_id}: {len(batch.essay_ids)} slots for {len(accepted)} files")
        # One file per request, as a teacher's browser would send them.
        for upload in accepted:
            submit_essays(runtime, DEMO_OWNER, batch.batch_id, [upload], correlation_id=correlation_id)
        follow_until_done(
            runtime, DEMO_OWNER, batch.batch_id, console, timeout=timeout, handed_in=len(accepted)
        )
        report = batch_report(runtime, DEMO_OWNER, batch.batch_id)
        return report, batch_document(runtime, DEMO_OWNER, batch.batch_id)


def accepted_uploads(settings: Settings, files: list[Path], console: Console) -> list[Upload]:
    """The files intake accepts; each refused one is named with its code (a 415 or 413 over the API)."""
    accepted = []
    for path in files:
        upload = Upload(path.name, "application/octet-stream", path.read_bytes())
        try:
            check_upload(settings, upload)
        except (UnsupportedMediaTypeError, PayloadTooLargeError) as refused:
            console.print(f"refused {path.name}: {refused.code}", markup=False)
            continue
        accepted.append(upload)
    return accepted


def follow_until_done(
    runtime: Runtime,
    owner: str,
    batch_id: str,
    console: Console,
    *,
    timeout: float,
    handed_in: int | None = None,
) -> BatchProgress:
    """Show slots filling until the batch is DONE; the sweep runs meanwhile, as beat would.

    With `handed_in`, a batch still open once that many uploads are settled is closed: nothing more is
    coming, so it need not wait for its deadline.
    """
    deadline = time.monotonic() + timeout
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    closed = False
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("slots accounted for", total=None)
        next_sweep = time.monotonic()
        while True:
            status = owned_progress(runtime, owner, batch_id)
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
            settled = status.assigned + status.failed + status.duplicates + status.excess
            if (
                handed_in is not None
                and not closed
                and status.state is BatchState.OPEN
                and settled >= handed_in
            ):
                closed = True
                ended = close_batch(runtime, owner, batch_id)
                if ended.missing_essay_ids:
                    console.print(
                        f"every file is in; closed with {len(ended.missing_essay_ids)} slots missing"
                    )
            if time.monotonic() > deadline:
                raise ElsError(
                    f"batch {batch_id} did not finish within {timeout:.0f} s (state {status.state})"
                )
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + 1.0
                sweep(runtime)
            time.sleep(0.1)
