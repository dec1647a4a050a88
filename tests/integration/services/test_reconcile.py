"""The registration crash window: SQL stored a batch, Redis never took it; the sweep closes it from SQL."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator

import pytest
from celery._state import get_current_app

import bootstrap
from coordinator import now_ms
from db.batches import load_batch, load_report
from db.session import unit_of_work
from els.errors import NotReadyError
from els.ids import scoped_id
from essays.lifecycle import BatchState
from services.intake import BatchRequest, register_batch
from services.runtime import Runtime
from services.sweep import sweep
from tests.integration.services.support import events

DEADLINE_SECONDS = 60


@pytest.fixture
def unreachable(runtime: Runtime) -> Iterator[Runtime]:
    """The same database and broker queue, and a Redis that does not answer: a registration fails midway."""
    settings = runtime.settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    previous = get_current_app()
    built = bootstrap.build_runtime(settings, bootstrap.create_app(settings))
    previous.set_current()
    # Without quotas, whose Redis script would refuse the registration before its SQL row is written.
    yield dataclasses.replace(built, quotas=None)
    built.close()


def request(batch_id: str) -> BatchRequest:
    return BatchRequest(
        owner="teacher-1",
        correlation_id=f"corr-{batch_id}",
        batch_id=batch_id,
        expected_count=3,
        deadline_seconds=DEADLINE_SECONDS,
    )


def well_past_deadline(runtime: Runtime) -> int:
    return now_ms() + (DEADLINE_SECONDS + runtime.settings.stuck_after_seconds + 1) * 1000


def test_a_registration_that_never_reached_redis_expires_with_every_slot_missing(
    runtime: Runtime, unreachable: Runtime
) -> None:
    batch_id = f"crash-{uuid.uuid4().hex[:8]}"
    key = scoped_id("teacher-1", batch_id)
    with pytest.raises(NotReadyError):
        register_batch(unreachable, request(batch_id))
    assert events(runtime, key, "batch.registered") == []  # queued only once Redis confirms
    assert not runtime.coordinator.knows(key)

    assert sweep(runtime, now_ms()).unregistered == ()  # not before its deadline is well past
    result = sweep(runtime, well_past_deadline(runtime))

    assert result.unregistered == (key,)
    with unit_of_work(runtime.engine, read_only=True) as session:
        stored = load_batch(session, key)
        report = load_report(session, key)
    assert stored is not None
    assert (stored.state, stored.closed_as) == (BatchState.DONE, BatchState.EXPIRED)
    assert report is not None
    slots = [f"{key}-00{n}" for n in (1, 2, 3)]
    assert report["counts"] == {
        "expected": 3,
        "analysed": 0,
        "failed": 0,
        "analysis_failed": 0,
        "missing": 3,
        "excess": 0,
        "duplicates": 0,
    }
    for event_type in ("batch.registered", "batch.expired", "batch.completed"):
        assert len(events(runtime, key, event_type)) == 1, event_type
    data = events(runtime, key, "batch.expired")[0]["data"]
    assert isinstance(data, dict)
    assert data["missing_essay_ids"] == slots


def test_reconciling_twice_changes_nothing_and_a_retry_answers_the_closed_batch(
    runtime: Runtime, unreachable: Runtime
) -> None:
    batch_id = f"crash-{uuid.uuid4().hex[:8]}"
    key = scoped_id("teacher-1", batch_id)
    with pytest.raises(NotReadyError):
        register_batch(unreachable, request(batch_id))
    later = well_past_deadline(runtime)
    assert sweep(runtime, later).unregistered == (key,)
    assert sweep(runtime, later + 1000).unregistered == ()

    retried = register_batch(runtime, request(batch_id))

    assert (retried.state, retried.created) == (BatchState.DONE, False)
    assert not runtime.coordinator.knows(key)  # the retry did not bring it back to life in Redis
    assert len(events(runtime, key, "batch.completed")) == 1


def test_a_batch_redis_knows_is_left_to_the_coordinator(runtime: Runtime) -> None:
    batch_id = f"live-{uuid.uuid4().hex[:8]}"
    key = scoped_id("teacher-1", batch_id)
    register_batch(runtime, request(batch_id))

    result = sweep(runtime, well_past_deadline(runtime))

    assert result.unregistered == ()
    assert key in result.expired
