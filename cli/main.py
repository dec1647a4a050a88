"""The `els` command line for operators."""

from __future__ import annotations

import sys

import typer

from cli.api import api
from cli.batch import batch_cli
from cli.demo import demo
from cli.ops import config, db_cli, purge, schema, sweep_now
from els.errors import ElsError

cli = typer.Typer(
    name="els",
    help="ELS, the Essay Lifecycle Service: batch coordination for essay assessment.",
    no_args_is_help=True,
    add_completion=False,
)


@cli.callback()
def root() -> None:
    """ELS, the Essay Lifecycle Service."""


cli.command()(demo)
cli.command()(api)
cli.add_typer(batch_cli, name="batch")
cli.add_typer(db_cli, name="db")
cli.command()(purge)
cli.command()(schema)
cli.command("sweep")(sweep_now)
cli.command()(config)


def main() -> None:
    """Entry point of the `els` console script: ELS errors print their code and message, exit 1."""
    try:
        cli()
    except ElsError as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(1)
