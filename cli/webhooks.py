"""`els webhooks`: follow webhook deliveries and give dead ones another set of attempts."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.context import runtime
from services.webhooks import DeliveryState, list_deliveries, retry_delivery

webhooks_cli = typer.Typer(help="Webhook deliveries: list them, retry the dead ones.", no_args_is_help=True)


@webhooks_cli.command("list")
def list_command(
    state: Annotated[DeliveryState | None, typer.Option(help="Only deliveries in this state.")] = None,
    owner: Annotated[str | None, typer.Option(help="Only this owner's deliveries.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200, help="How many, newest first.")] = 50,
) -> None:
    """List webhook deliveries, newest first (`--state dead` for the dead letters)."""
    table = Table("event id", "type", "owner", "batch", "state", "attempts", "status", "last error")
    for record in list_deliveries(runtime(), owner, state, limit):
        table.add_row(
            record.event_id,
            record.event_type,
            record.owner,
            record.batch_id,
            record.state.value,
            str(record.attempts),
            "" if record.last_status is None else str(record.last_status),
            (record.last_error or "")[:80],
        )
    Console().print(table)


@webhooks_cli.command("retry")
def retry_command(
    event_ids: Annotated[list[str], typer.Argument(help="Event ids of dead deliveries.")],
) -> None:
    """Give dead deliveries a fresh set of attempts, due now."""
    for event_id in event_ids:
        retry_delivery(runtime(), event_id)
        Console(stderr=True).print(f"{event_id}: due again")
