"""One relay run drains a backlog pass after pass, through the real broker, within its time budget."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from db.outbox import add_event, count_unpublished
from db.session import unit_of_work
from els.events import BatchSealed, BatchSealedData
from services.relay import relay_now
from services.runtime import Runtime


def sealed(number: int) -> BatchSealed:
    data = BatchSealedData(batch_id=f"drain-{number}", expected_count=1, closed_at=datetime.now(UTC))
    return BatchSealed.create(data, correlation_id="drain", occurred_at=datetime.now(UTC))


def test_one_relay_run_publishes_a_backlog_larger_than_a_pass(sqlite_runtime: Runtime) -> None:
    runtime = dataclasses.replace(
        sqlite_runtime, settings=sqlite_runtime.settings.model_copy(update={"outbox_batch_size": 40})
    )
    with unit_of_work(runtime.engine) as session:
        for number in range(130):
            add_event(session, sealed(number))
    result = relay_now(runtime)
    assert (result.published, result.failed, result.parked) == (130, 0, 0)
    with unit_of_work(runtime.engine, read_only=True) as session:
        assert count_unpublished(session) == 0


def test_a_run_stops_at_its_time_budget_and_leaves_the_rest_due(sqlite_runtime: Runtime) -> None:
    tiny = {"outbox_batch_size": 10, "outbox_drain_seconds": 1e-6}
    runtime = dataclasses.replace(sqlite_runtime, settings=sqlite_runtime.settings.model_copy(update=tiny))
    with unit_of_work(runtime.engine) as session:
        for number in range(25):
            add_event(session, sealed(number))
    assert relay_now(runtime).published == 10  # one pass, then the budget is spent
    with unit_of_work(runtime.engine, read_only=True) as session:
        assert count_unpublished(session) == 15
