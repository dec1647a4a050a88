"""Write primitives: insert-or-ignore (what makes a redelivered write a no-op), rows locked once per
transaction, and row counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import TypeVar

from sqlalchemy import CursorResult, Table, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db.models import Base
from els.errors import ConfigurationError

M = TypeVar("M", bound=Base)

_LOCKED = "els.locked_rows"


def insert_ignore(session: Session, model: type[Base], rows: Sequence[Mapping[str, object]]) -> int:
    """Insert `rows` (keyed by attribute name), skipping any that hit a unique key; returns how many went in.

    One statement, so a concurrent writer of the same key waits for ours and then skips (PostgreSQL)
    or was serialised before us by the write lock (SQLite): never a duplicate, never an error. It is a
    Core insert on the model's table in the session's transaction, with the rows as parameters: it
    compiles once per process (SQLAlchemy's cache) and skips the ORM's bulk machinery, as no object
    is loaded from it.
    """
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    table = _table(model)
    statement: postgresql.Insert | sqlite.Insert
    if dialect == "postgresql":
        statement = postgresql.insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(table).on_conflict_do_nothing()
    else:
        raise ConfigurationError(f"ELS stores to PostgreSQL or SQLite, not {dialect}")
    names = _column_names(model)
    parameters = [{names[attribute]: value for attribute, value in row.items()} for row in rows]
    # RETURNING lists exactly the rows that went in; a rowcount is not reliable for an executemany.
    returning = statement.returning(*table.primary_key.columns)
    return len(session.execute(returning, parameters).all())


def _table(model: type[Base]) -> Table:
    table = inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to one table")
    return table


@cache
def _column_names(model: type[Base]) -> dict[str, str]:
    # Attribute name -> column name (they differ where a column's name is reserved, as `metadata` is).
    return {attribute.key: attribute.columns[0].key for attribute in inspect(model).column_attrs}


def locked_row(session: Session, model: type[M], key: str) -> M | None:
    """The row with primary key `key`, locked for the rest of the session's transaction, or None.

    The first call in a transaction reads it fresh with SELECT ... FOR UPDATE; later calls answer with
    the same object, which holds every change made since (the lock keeps other writers out), so a unit
    that reaches one row through several helpers reads it once. The rows are held here too: the
    session's identity map keeps a clean row only weakly, and would read it again.
    """
    transaction = session.get_transaction()
    held = session.info.get(_LOCKED)
    if held is None or held[0] is not transaction:
        held = (transaction, {})
        session.info[_LOCKED] = held
    rows: dict[tuple[type[Base], str], Base] = held[1]
    row = rows.get((model, key))
    if isinstance(row, model):
        return row
    fresh = session.get(model, key, with_for_update=True, populate_existing=True)
    if fresh is not None:
        rows[(model, key)] = fresh
    return fresh


def affected_rows(result: object) -> int:
    """How many rows an INSERT, UPDATE or DELETE touched."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"a DML statement answers with a cursor result, not {type(result).__name__}")
    return result.rowcount
