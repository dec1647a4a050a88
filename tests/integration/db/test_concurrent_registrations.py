"""Two registrations racing for one essay id: the loser is refused as ESSAY_ID_TAKEN on both databases."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

from sqlalchemy import Engine, text

from db.batches import BatchRecord, record_registration
from db.models import Batch, Essay
from db.session import unit_of_work
from els.errors import EssayIdTakenError
from tests.integration.db.builders import batch_record, count

LOCK_WAIT_TIMEOUT_SECONDS = 10


def wait_for_a_lock_wait(engine: Engine) -> None:
    """On PostgreSQL, poll until some session of this database waits on a lock (SQLite queues at BEGIN)."""
    if engine.dialect.name != "postgresql":
        return
    deadline = time.monotonic() + LOCK_WAIT_TIMEOUT_SECONDS
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            if connection.scalar(query):
                return
        time.sleep(0.02)
    raise AssertionError("the second registration never waited on the first one's essay rows")


def test_racing_registration_of_a_taken_essay_id_is_essay_id_taken(migrated_engine: Engine) -> None:
    first = batch_record(slots=2)
    second: BatchRecord = replace(batch_record(slots=2), essay_ids=(first.essay_ids[0], "racer-own-essay"))
    raised: list[BaseException] = []

    def register_second() -> None:
        try:
            with unit_of_work(migrated_engine) as session:
                record_registration(session, second)
        except BaseException as error:  # noqa: BLE001 - the test inspects what the racer raised
            raised.append(error)

    racer = threading.Thread(target=register_second)
    with unit_of_work(migrated_engine) as session:
        # The first registration's essay rows are written but not committed when the second arrives.
        record_registration(session, first)
        racer.start()
        wait_for_a_lock_wait(migrated_engine)
    racer.join(timeout=30)

    assert not racer.is_alive()
    assert [type(error) for error in raised] == [EssayIdTakenError]
    assert count(migrated_engine, Batch) == 1
    assert count(migrated_engine, Essay) == 2
