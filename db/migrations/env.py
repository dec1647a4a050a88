"""Alembic environment: runs the migrations on the connection or URL `db.migrate` hands it."""

from __future__ import annotations

import sqlite3

from alembic import context
from sqlalchemy import Connection

from db.engine import create_db_engine
from db.models import Base
from els.settings import Settings


def run_migrations(connection: Connection) -> None:
    """Run the pending migrations on `connection`, in batch mode on SQLite (it cannot ALTER much)."""
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A batch migration copies and drops tables; with foreign keys on, the drop would cascade.
        # The pragma is ignored inside a transaction, so it goes to the driver before one begins.
        driver = connection.connection.driver_connection
        if isinstance(driver, sqlite3.Connection):
            driver.execute("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=sqlite,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    if sqlite:
        driver = connection.connection.driver_connection
        if isinstance(driver, sqlite3.Connection):
            driver.execute("PRAGMA foreign_keys=ON")


def run_online() -> None:
    """Migrate the database named by the config's URL, or the connection passed in attributes."""
    given = context.config.attributes.get("connection")
    if isinstance(given, Connection):
        run_migrations(given)
        return
    # `alembic` on the command line (alembic.ini) names no URL: it is ELS_DATABASE_URL, as for ELS.
    url = context.config.get_main_option("sqlalchemy.url") or Settings().database_url
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            run_migrations(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("ELS migrations run online only: `els db upgrade` (or `alembic upgrade head`)")
run_online()
