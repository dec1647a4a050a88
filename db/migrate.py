"""Schema migrations, run programmatically: the only way an ELS database gets its tables."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from db.engine import create_db_engine, normalise_url

# Found beside this module, so it works from a checkout and from an installed wheel alike.
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An alembic config for `database_url` with no alembic.ini on disk."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolates '%', which URL-encoded passwords contain.
    config.set_main_option("sqlalchemy.url", normalise_url(database_url).replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head", *, blob_store: str | None = None) -> None:
    """Migrate the database at `database_url` up to `revision` (idempotent at the head).

    `blob_store` is where a migration that moves uploads puts them (default: `ELS_BLOB_STORE`)."""
    engine = create_db_engine(database_url)
    try:
        check_encoding(engine)
    finally:
        engine.dispose()
    config = alembic_config(database_url)
    if blob_store is not None:
        config.attributes["blob_store"] = blob_store
    command.upgrade(config, revision)


class SchemaError(RuntimeError):
    """The database cannot serve ELS as it is: not migrated to the code's head, or a wrong encoding."""


def check_encoding(engine: Engine) -> None:
    """Raise SchemaError for a PostgreSQL database whose encoding is not UTF8 (SQL_ASCII returns bytes)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as connection:
        encoding = connection.execute(text("SHOW server_encoding")).scalar()
    if encoding != "UTF8":
        raise SchemaError(
            f"the database's encoding is {encoding}, and ELS needs UTF8: "
            "create it with `CREATE DATABASE ... ENCODING 'UTF8' TEMPLATE template0`"
        )


def schema_problem(engine: Engine) -> str | None:
    """Why the database behind `engine` cannot serve this code yet, or None when it is at the head."""
    with engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
    wanted = head()
    if revision == wanted:
        return None
    found = "never migrated" if revision is None else f"at revision {revision}"
    return f"the database is {found}, this code needs {wanted}: run `els db upgrade`"


def history() -> list[str]:
    """Every revision the code knows, newest first, as `revision: message`."""
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [f"{script.revision}: {script.doc}" for script in scripts.walk_revisions()]


def downgrade(database_url: str, revision: str, *, blob_store: str | None = None) -> None:
    """Migrate the database at `database_url` down to `revision` ("base" empties it)."""
    config = alembic_config(database_url)
    if blob_store is not None:
        config.attributes["blob_store"] = blob_store
    command.downgrade(config, revision)


def current(database_url: str) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head() -> str:
    """The newest revision the code knows."""
    revision = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    if revision is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS}")
    return revision
