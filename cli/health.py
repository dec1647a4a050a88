"""`els beat-alive`: whether sweeps still run, from the heartbeat each sweep stamps in Redis.

Beat's healthcheck in docker-compose.yml: it proves beat sends the sweep and a control worker runs it,
which a schedule file on disk never did.
"""

from __future__ import annotations

from typing import Annotated

import typer

from cli.context import runtime, settings
from services.sweep import sweep_age_seconds


def beat_alive(
    max_age: Annotated[
        float | None,
        typer.Option(
            "--max-age", help="Oldest heartbeat accepted, in seconds (default: 3 sweep intervals, >= 60)."
        ),
    ] = None,
) -> None:
    """Exit 0 when a sweep ran within --max-age seconds, 1 (with the reason) otherwise."""
    current = settings()
    limit = max_age if max_age is not None else max(current.sweep_interval_seconds * 3, 60.0)
    age = sweep_age_seconds(runtime())
    queue = current.celery_control_queue
    if age is None:
        typer.echo(
            f"no sweep ran lately: check that beat runs and that a worker consumes the {queue} queue",
            err=True,
        )
        raise typer.Exit(1)
    if age > limit:
        typer.echo(
            f"the last sweep ran {age:.0f} s ago (more than {limit:.0f} s): "
            f"check beat and the workers of the {queue} queue",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(f"the last sweep ran {age:.1f} s ago")
