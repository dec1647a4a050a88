"""The embedded SQLite database runs WAL with synchronous=NORMAL and foreign keys on."""

from __future__ import annotations

from sqlalchemy import text

from db.engine import create_db_engine


def test_sqlite_runs_wal_with_normal_sync(sqlite_url: str) -> None:
    engine = create_db_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()
