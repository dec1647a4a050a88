"""The `els` command line for operators.

Exit codes: 0 ok, 1 a failure (an ELS error, an unreachable Redis, database or broker), 2 a usage or
configuration mistake (bad arguments, a path that cannot be read, an `ELS_*` setting out of bounds).
Every error is one line on stderr that says what to fix; never a traceback.
"""

from __future__ import annotations

import sys
from importlib import metadata
from typing import Annotated

import typer
from pydantic import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from cli.api import api
from cli.batch import batch_cli
from cli.demo import demo
from cli.health import beat_alive
from cli.ops import config, db_cli, purge, schema, sweep_now
from cli.webhooks import webhooks_cli
from els.errors import ConfigurationError, ElsError, InvalidInputError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

cli = typer.Typer(
    name="els",
    help="ELS, the Essay Lifecycle Service: batch coordination for essay assessment. "
    "Exit codes: 0 ok, 1 failure, 2 usage or configuration.",
    no_args_is_help=True,
    add_completion=False,
)


def version() -> str:
    """The installed version of ELS."""
    try:
        return metadata.version("els")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"els {version()}")
        raise typer.Exit(EXIT_OK)


@cli.callback()
def root(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """ELS, the Essay Lifecycle Service."""


cli.command()(demo)
cli.command()(api)
cli.add_typer(batch_cli, name="batch")
cli.add_typer(db_cli, name="db")
cli.command()(purge)
cli.command()(schema)
cli.command("sweep")(sweep_now)
cli.command()(config)
cli.command("beat-alive")(beat_alive)
cli.add_typer(webhooks_cli, name="webhooks")


def one_line(text: str) -> str:
    """`text` on one line, bounded."""
    flat = " ".join(text.split())
    return flat if len(flat) <= 400 else flat[:397] + "..."


def describe(error: BaseException) -> tuple[str, int]:
    """The one line an error prints and the exit code it ends with."""
    if isinstance(error, ConfigurationError | InvalidInputError):
        return f"error: {error}", EXIT_USAGE
    if isinstance(error, ElsError):
        return f"error: {error}", EXIT_FAILURE
    if isinstance(error, ValidationError) and error.title == "Settings":
        problems = "; ".join(
            f"ELS_{'_'.join(str(part) for part in problem['loc']).upper()}: {problem['msg']}"
            for problem in error.errors()[:3]
        )
        return f"error: [CONFIGURATION_ERROR] bad setting: {problems}", EXIT_USAGE
    if isinstance(error, ValidationError):
        problems = "; ".join(str(problem["msg"]) for problem in error.errors()[:3])
        return f"error: Invalid value: {problems} (see --help)", EXIT_USAGE
    if isinstance(error, RedisConnectionError | RedisTimeoutError):
        return f"error: [NOT_READY] cannot reach Redis ({error}): start it or set ELS_REDIS_URL", EXIT_FAILURE
    if isinstance(error, OperationalError):
        reason = str(error.orig) if error.orig is not None else str(error)
        return (
            f"error: [NOT_READY] cannot use the database ({reason}): check ELS_DATABASE_URL, "
            "then run `els db upgrade`",
            EXIT_FAILURE,
        )
    if isinstance(error, FileNotFoundError | IsADirectoryError | PermissionError | NotADirectoryError):
        return f"error: cannot read {error.filename}: {error.strerror}", EXIT_USAGE
    if isinstance(error, OSError):
        return f"error: {error.strerror or error}", EXIT_FAILURE
    return f"error: {type(error).__name__}: {error}", EXIT_FAILURE


def main() -> None:
    """Entry point of the `els` console script: every error is one line and an exit code, never a trace."""
    try:
        result = cli(standalone_mode=False)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        typer.echo("error: aborted", err=True)
        sys.exit(EXIT_FAILURE)
    except typer.TyperException as usage:
        typer.echo(one_line(f"error: {usage.format_message()} (see --help)"), err=True)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        typer.echo("error: interrupted", err=True)
        sys.exit(EXIT_FAILURE)
    except (ElsError, ValidationError, RedisError, SQLAlchemyError, OSError, ValueError) as error:
        line, code = describe(error)
        typer.echo(one_line(line), err=True)
        sys.exit(code)
    # Outside standalone mode click hands back the code of a `typer.Exit` instead of exiting.
    sys.exit(result if isinstance(result, int) else EXIT_OK)
