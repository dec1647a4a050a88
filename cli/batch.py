"""`els batch`: register batches, submit essays and follow them from a terminal."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli.context import runtime
from coordinator import BatchState, BatchStatus
from els.errors import NotFoundError
from services.intake import BatchRequest, Upload, register_batch, submit_essays

batch_cli = typer.Typer(help="Register batches, submit essays, follow progress.", no_args_is_help=True)
console = Console(stderr=True)


@batch_cli.command("create")
def create(
    expected: Annotated[int, typer.Option(help="How many essays (slots) the batch expects.")],
    owner: Annotated[str, typer.Option(help="Who the batch belongs to.")],
    batch_id: Annotated[str | None, typer.Option(help="Client batch id; generated when omitted.")] = None,
    deadline: Annotated[int | None, typer.Option(help="Seconds until the batch closes.")] = None,
    language: Annotated[str | None, typer.Option(help="Language of the essays, e.g. en.")] = None,
) -> None:
    """Register a batch; prints its id, slots and deadline as JSON."""
    request = BatchRequest(
        owner=owner,
        correlation_id=str(uuid.uuid4()),
        expected_count=expected,
        batch_id=batch_id,
        deadline_seconds=deadline,
        language=language,
    )
    batch = register_batch(runtime(), request)
    typer.echo(json.dumps({**asdict(batch), "deadline_at": batch.deadline_at.isoformat()}))


@batch_cli.command("submit")
def submit(
    batch_id: Annotated[str, typer.Argument(help="The batch to submit to.")],
    files: Annotated[list[Path], typer.Argument(help="Essay files to upload.", exists=True, dir_okay=False)],
) -> None:
    """Store and enqueue essay files for a batch; prints one submission id per file."""
    current = _status(batch_id)
    uploads = [Upload(path.name, "application/octet-stream", path.read_bytes()) for path in files]
    accepted = submit_essays(
        runtime(), current.owner, batch_id, uploads, correlation_id=current.correlation_id
    )
    for submission, path in zip(accepted, files, strict=True):
        typer.echo(f"{submission.submission_id}\t{path}")


@batch_cli.command("status")
def status(batch_id: Annotated[str, typer.Argument(help="The batch.")]) -> None:
    """Print a batch's live state and counts as JSON."""
    current = _status(batch_id)
    typer.echo(
        json.dumps(
            {
                "batch_id": current.batch_id,
                "state": current.state.value,
                "owner": current.owner,
                "expected": current.expected,
                "assigned": current.assigned,
                "failed": current.failed,
                "excess": current.excess,
                "duplicates": current.duplicates,
                "missing": list(current.missing_essay_ids),
                "deadline_ms": current.deadline_ms,
            }
        )
    )


@batch_cli.command("watch")
def watch(
    batch_id: Annotated[str, typer.Argument(help="The batch.")],
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds.")] = 3600,
) -> None:
    """Show a live progress bar until the batch is DONE."""
    deadline = time.monotonic() + timeout
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("waiting", total=None)
        while True:
            current = _status(batch_id)
            done = current.assigned + current.failed
            progress.update(task, total=current.expected, completed=done, description=current.state.value)
            if current.state is BatchState.DONE:
                return
            if time.monotonic() > deadline:
                raise typer.Exit(2)
            time.sleep(0.5)


@batch_cli.command("list")
def list_batches(
    owner: Annotated[str | None, typer.Option(help="Only this owner's batches.")] = None,
    limit: Annotated[int, typer.Option(help="Most batches to list.")] = 50,
) -> None:
    """List batches not yet DONE."""
    page = runtime().coordinator.list_active_batches(owner, None, limit)
    table = Table("batch", "owner", "state", "expected", "assigned", "failed", "excess")
    for item in page.batches:
        table.add_row(
            item.batch_id,
            item.owner,
            item.state.value,
            str(item.expected),
            str(item.assigned),
            str(item.failed),
            str(item.excess),
        )
    Console().print(table)


def _status(batch_id: str) -> BatchStatus:
    current = runtime().coordinator.status(batch_id)
    if current is None:
        raise NotFoundError(f"batch {batch_id} is not live (unknown, or finished and expired)")
    return current
