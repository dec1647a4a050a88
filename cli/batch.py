"""`els batch`: register batches, submit essays, follow, close or cancel them, and read their reports."""

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
from cli.report import print_document
from coordinator import BatchProgress, BatchState
from els.errors import InvalidInputError, NotFoundError
from els.ids import public_id
from services.archive_intake import submit_archive
from services.closing import EndedBatch, cancel_batch, close_batch
from services.intake import BatchRequest, Upload, register_batch, submit_essays
from services.live_status import batch_slots
from services.queries import owned_progress, owner_of_batch
from services.report_document import batch_document, document_csv, document_json

batch_cli = typer.Typer(
    help="Register batches, submit essays, follow progress, close or cancel them, read reports.",
    no_args_is_help=True,
)
console = Console(stderr=True)

FINAL = (BatchState.DONE,)


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
    paths: Annotated[
        list[Path], typer.Argument(help="Essay files, folders of them, or a class archive (.zip).")
    ],
    owner: Annotated[str | None, typer.Option(help="Whose batch; needed when owners share the id.")] = None,
) -> None:
    """Store and enqueue essays for a batch; prints one submission id per file.

    A folder stands for the files in it (hidden ones left out); a .zip is sent as one class archive,
    each essay file in it a submission, the members skipped or refused named on stderr.
    """
    for path in paths:
        if not path.exists():
            raise InvalidInputError(f"{path} does not exist: give essay files, folders or a .zip")
    archives = [path for path in paths if path.is_file() and path.suffix.lower() == ".zip"]
    files = [file for path in paths if path not in archives for file in _files_of(path)]
    current = _status(batch_id, owner)
    if files:
        uploads = [Upload(path.name, "application/octet-stream", path.read_bytes()) for path in files]
        accepted = submit_essays(
            runtime(), current.owner, batch_id, uploads, correlation_id=current.correlation_id
        )
        for submission, path in zip(accepted, files, strict=True):
            typer.echo(f"{submission.submission_id}\t{path}")
    for archive in archives:
        result = submit_archive(
            runtime(), current.owner, batch_id, archive.read_bytes(), correlation_id=current.correlation_id
        )
        for item in result.accepted:
            typer.echo(f"{item.submission_id}\t{archive} > {item.filename}")
        for skipped in result.skipped:
            typer.echo(f"skipped {archive} > {skipped.name}: {skipped.reason.value}", err=True)
        for refused in result.refused:
            typer.echo(f"refused {archive} > {refused.name}: [{refused.code}] {refused.message}", err=True)


def _files_of(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(child for child in path.iterdir() if child.is_file() and not child.name.startswith("."))


@batch_cli.command("status")
def status(
    batch_id: Annotated[str, typer.Argument(help="The batch.")],
    owner: Annotated[str | None, typer.Option(help="Whose batch; needed when owners share the id.")] = None,
) -> None:
    """Print a batch's live state and counts as JSON (its slots: `els batch slots`)."""
    current = _status(batch_id, owner)
    closed = current.state is not BatchState.OPEN
    typer.echo(
        json.dumps(
            {
                "batch_id": batch_id,
                "state": current.state.value,
                "owner": current.owner,
                "expected": current.expected,
                "assigned": current.assigned,
                "failed": current.failed,
                "excess": current.excess,
                "duplicates": current.duplicates,
                "missing": current.expected - current.settled if closed else 0,
                "deadline_ms": current.deadline_ms,
            }
        )
    )


@batch_cli.command("slots")
def slots(
    batch_id: Annotated[str, typer.Argument(help="The batch.")],
    limit: Annotated[int, typer.Option(help="Slots read per page (1..1000).")] = 500,
    owner: Annotated[str | None, typer.Option(help="Whose batch; needed when owners share the id.")] = None,
) -> None:
    """Print every slot of a batch, one JSON line each in slot order, read a page at a time."""
    rt = runtime()
    for slot in _all_slots(batch_id, owner_of_batch(rt, batch_id, owner), limit):
        typer.echo(json.dumps(slot))


def _all_slots(batch_id: str, owner: str, limit: int) -> list[dict[str, str | int | None]]:
    """Every slot of the owner's batch, page after page of the slot listing."""
    rt = runtime()
    found: list[dict[str, str | int | None]] = []
    cursor: str | None = None
    while True:
        page = batch_slots(rt, owner, batch_id, cursor, limit)
        found.extend(
            {
                "essay_id": slot.essay_id,
                "position": slot.position,
                "state": slot.state,
                "outcome": slot.outcome,
                "code": slot.code,
                "filename": None if slot.file is None else slot.file.filename,
            }
            for slot in page.slots
        )
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


@batch_cli.command("watch")
def watch(
    batch_id: Annotated[str, typer.Argument(help="The batch.")],
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds.")] = 3600,
    owner: Annotated[str | None, typer.Option(help="Whose batch; needed when owners share the id.")] = None,
) -> None:
    """Show a live progress bar until the batch is DONE, then its final state and missing essays."""
    if timeout <= 0:
        raise InvalidInputError("--timeout must be a positive number of seconds")
    deadline = time.monotonic() + timeout
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    owner = owner_of_batch(runtime(), batch_id, owner)
    current = _status(batch_id, owner)
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("waiting", total=None)
        while True:
            current = _status(batch_id, owner)  # the counters only: one HMGET a poll
            progress.update(
                task, total=current.expected, completed=current.settled, description=current.state.value
            )
            if current.state in FINAL or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    state = "cancelled" if current.closed_as is BatchState.CANCELLED else current.state.value
    # The slots are read once, at the end, a page at a time: the only walk over the whole batch.
    missing_ids = [
        slot["essay_id"] for slot in _all_slots(batch_id, owner, 1000) if slot["outcome"] == "missing"
    ]
    missing = ", ".join(str(essay_id) for essay_id in missing_ids) or "none"
    console.print(
        f"batch {batch_id}: {state}; {current.assigned} assigned, {current.failed} failed of "
        f"{current.expected}; missing: {missing}"
    )
    if current.state not in FINAL:
        console.print(f"gave up after {timeout:g} s; the batch is still {state}")
        raise typer.Exit(1)


@batch_cli.command("list")
def list_batches(
    owner: Annotated[str | None, typer.Option(help="Only this owner's batches.")] = None,
    limit: Annotated[int, typer.Option(help="Most batches to list (1..1000).")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines instead of a table.")] = False,
) -> None:
    """List batches not yet DONE."""
    page = runtime().coordinator.list_active_batches(owner, None, limit)
    if as_json:
        for item in page.batches:
            typer.echo(
                json.dumps(
                    {
                        "batch_id": public_id(item.batch_id),
                        "owner": item.owner,
                        "state": item.state.value,
                        "expected": item.expected,
                        "assigned": item.assigned,
                        "failed": item.failed,
                        "excess": item.excess,
                        "created_ms": item.created_ms,
                        "deadline_ms": item.deadline_ms,
                    }
                )
            )
        return
    table = Table("batch", "owner", "state", "expected", "assigned", "failed", "excess")
    for item in page.batches:
        table.add_row(
            public_id(item.batch_id),
            item.owner,
            item.state.value,
            str(item.expected),
            str(item.assigned),
            str(item.failed),
            str(item.excess),
        )
    Console().print(table)


@batch_cli.command("close")
def close(
    batch_id: Annotated[str, typer.Argument(help="The batch to close now.")],
    owner: Annotated[str | None, typer.Option(help="Whose batch; needed when owners share the id.")] = None,
) -> None:
    """Close a batch now: it seals with its missing slots named, then is analysed and reported."""
    rt = runtime()
    _print_ended(close_batch(rt, owner_of_batch(rt, batch_id, owner), batch_id))


@batch_cli.command("cancel")
def cancel(
    batch_id: Annotated[str, typer.Argument(help="The batch to cancel.")],
    owner: Annotated[str | None, typer.Option(help="Whose batch; needed when owners share the id.")] = None,
) -> None:
    """Cancel a batch: no analysis, no report, no more uploads."""
    rt = runtime()
    _print_ended(cancel_batch(rt, owner_of_batch(rt, batch_id, owner), batch_id))


@batch_cli.command("report")
def report(
    batch_id: Annotated[str, typer.Argument(help="The batch.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print one CSV row per slot.")] = False,
    owner: Annotated[str | None, typer.Option(help="Whose batch; needed when owners share the id.")] = None,
) -> None:
    """Print a batch's report: every slot with its file, refused files, duplicates, missing essays."""
    if as_json and as_csv:
        raise InvalidInputError("give --json or --csv, not both")
    rt = runtime()
    document = batch_document(rt, owner_of_batch(rt, batch_id, owner), batch_id)
    if as_csv:
        typer.echo(document_csv(document), nl=False)
    elif as_json:
        typer.echo(json.dumps(document_json(document), indent=2))
    else:
        print_document(Console(), document)


def _print_ended(ended: EndedBatch) -> None:
    typer.echo(
        json.dumps(
            {
                "batch_id": ended.batch_id,
                "state": ended.state.value,
                "current_state": ended.current_state.value,
                "replayed": ended.replayed,
                "missing_essay_ids": list(ended.missing_essay_ids),
            }
        )
    )


def _status(batch_id: str, owner: str | None) -> BatchProgress:
    rt = runtime()
    current = owned_progress(rt, owner_of_batch(rt, batch_id, owner), batch_id)
    if current is None:
        raise NotFoundError(f"batch {batch_id} is not live (unknown, or finished and expired)")
    return current
