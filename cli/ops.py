"""Operator commands: migrations, retention, event schemas, one sweep now."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cli.context import runtime, settings
from db.migrate import current, downgrade, history, upgrade
from els.configuration import masked, reference_markdown
from els.events import export_schemas, write_schemas
from services import retention
from services.sweep import sweep

db_cli = typer.Typer(
    help="The database: migrations are the only way its schema is made.", no_args_is_help=True
)


@db_cli.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Run the Alembic migrations up to REVISION on ELS_DATABASE_URL."""
    url = settings().database_url
    upgrade(url, revision)
    Console(stderr=True).print(f"database at revision {current(url)}")


@db_cli.command("current")
def db_current() -> None:
    """Print the database's current migration revision."""
    typer.echo(current(settings().database_url) or "(empty)")


@db_cli.command("history")
def db_history() -> None:
    """Print every revision this code knows, newest first."""
    for line in history():
        typer.echo(line)


@db_cli.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help='Target revision; "base" empties the schema.')],
) -> None:
    """Run the Alembic migrations down to REVISION on ELS_DATABASE_URL."""
    url = settings().database_url
    downgrade(url, revision)
    Console(stderr=True).print(f"database at revision {current(url) or '(empty)'}")


def purge(
    older_than: Annotated[int, typer.Option("--older-than", help="Days since the batch was completed.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would go; delete nothing.")] = False,
) -> None:
    """Remove finished batches completed more than --older-than DAYS ago, with all their rows."""
    if older_than < 0:
        raise typer.BadParameter("--older-than takes a number of days, 0 or more")
    report = retention.purge(runtime(), timedelta(days=older_than), dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    Console(stderr=True).print(
        f"{verb} {report.batches} batches, {report.essays} essays, {report.submissions} submissions, "
        f"{report.failures} failures, {report.events} events, {report.contents} texts, "
        f"{report.uploads} uploads"
    )


def schema(
    out: Annotated[
        Path | None, typer.Option(help="Write one <event type>.json per event into this folder.")
    ] = None,
) -> None:
    """Print (or write) the JSON Schemas of every event ELS publishes."""
    if out is not None:
        for path in write_schemas(out):
            typer.echo(path)
        return
    typer.echo(json.dumps(export_schemas(), indent=2, sort_keys=True))


def sweep_now() -> None:
    """Run one sweep now (expire due batches, re-kick stuck ones, resubmit stale submissions)."""
    result = sweep(runtime())
    Console(stderr=True).print(
        f"expired {len(result.expired)}, re-kicked {len(result.rekicked)}, "
        f"resubmitted {len(result.resubmitted)}"
    )


def config(
    reference: Annotated[
        bool, typer.Option("--reference", help="Print the reference of every setting as Markdown.")
    ] = False,
) -> None:
    """Print the settings this process would run with (as JSON, secrets masked)."""
    if reference:
        typer.echo(reference_markdown(), nl=False)
        return
    typer.echo(json.dumps(masked(settings()), indent=2))
