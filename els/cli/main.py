"""The `els` command line for operators."""

from __future__ import annotations

import typer

from els.cli.demo import demo

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


def main() -> None:
    """Entry point of the `els` console script."""
    cli()
