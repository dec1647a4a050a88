"""The unit of work: one transaction per handler, committed whole or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db.engine import SQLITE_BEGIN


@contextmanager
def unit_of_work(engine: Engine, *, read_only: bool = False) -> Iterator[Session]:
    """A session in one transaction: committed when the block ends, rolled back if it raises.

    On SQLite a writing unit takes the write lock when it begins, so concurrent writers queue
    instead of failing; `read_only=True` skips that and rolls back at the end.
    """
    session = Session(engine, expire_on_commit=False, autoflush=True)
    try:
        session.connection(execution_options={SQLITE_BEGIN: "DEFERRED" if read_only else "IMMEDIATE"})
        yield session
        if read_only:
            session.rollback()
        else:
            session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
