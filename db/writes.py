"""Write primitives: insert-or-ignore (what makes a redelivered write a no-op) and row counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import CursorResult, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db.models import Base
from els.errors import ConfigurationError


def insert_ignore(session: Session, model: type[Base], rows: Sequence[Mapping[str, object]]) -> int:
    """Insert `rows` (keyed by attribute name), skipping any that hit a unique key; returns how many went in.

    One statement, so a concurrent writer of the same key waits for ours and then skips (PostgreSQL)
    or was serialised before us by the write lock (SQLite): never a duplicate, never an error.
    """
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    statement: postgresql.Insert | sqlite.Insert
    if dialect == "postgresql":
        statement = postgresql.insert(model).values(list(rows)).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(model).values(list(rows)).on_conflict_do_nothing()
    else:
        raise ConfigurationError(f"ELS stores to PostgreSQL or SQLite, not {dialect}")
    # RETURNING lists exactly the rows that went in; a DML rowcount is not reliable for an ORM insert.
    key = inspect(model).primary_key[0]
    return len(session.execute(statement.returning(key)).all())


def affected_rows(result: object) -> int:
    """How many rows an INSERT, UPDATE or DELETE touched."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"a DML statement answers with a cursor result, not {type(result).__name__}")
    return result.rowcount
