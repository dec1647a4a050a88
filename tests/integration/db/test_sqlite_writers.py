"""Concurrent writers on the embedded SQLite database queue for the lock instead of failing."""

from __future__ import annotations

import threading

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from db.models import Submission
from db.session import unit_of_work
from db.submissions import store_submission
from tests.integration.db.builders import batch_record, count, new_submission, register

THREADS = 6
UPLOADS_EACH = 15


def test_read_then_write_units_in_parallel_all_commit(sqlite_engine: Engine) -> None:
    # Each unit reads (is this upload stored?) before it writes. Begun DEFERRED, a reader whose
    # snapshot went stale fails at once with "database is locked"; begun IMMEDIATE, it waits its turn.
    batch = batch_record(slots=1)
    register(sqlite_engine, batch)
    start = threading.Barrier(THREADS, timeout=20)
    errors: list[OperationalError] = []

    def upload_many(worker: int) -> None:
        try:
            start.wait()
            for n in range(UPLOADS_EACH):
                with unit_of_work(sqlite_engine) as session:
                    store_submission(session, new_submission(batch.batch_id, f"{worker}:{n}".encode()))
        except OperationalError as error:  # "database is locked"; anything else fails the count below
            errors.append(error)

    threads = [threading.Thread(target=upload_many, args=(worker,)) for worker in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert count(sqlite_engine, Submission) == THREADS * UPLOADS_EACH
