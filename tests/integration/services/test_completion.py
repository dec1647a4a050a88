"""Completion against the real Redis and PostgreSQL: SQL records the close when Redis made it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from coordinator import BatchState
from db.batches import load_batch
from db.essays import load_essay
from db.session import unit_of_work
from essays.analysis import EssayAnalysis, analyse_text
from essays.lifecycle import EssayState
from services.completion import plan_completion
from services.runtime import Runtime
from services.settle import settle
from tests.integration.services.support import events, processed
from tests.support.batches import register_batch

HOUR_MS = 3_600_000


@pytest.mark.parametrize("closing", ["sealed", "expired", "sealed, then finalizing"])
def test_the_close_is_stamped_with_the_time_redis_closed_the_batch(runtime: Runtime, closing: str) -> None:
    batch_id = register_batch(runtime, 1)
    live = runtime.coordinator.status(batch_id)
    assert live is not None
    # Redis closes the batch at a time of its own; SQL only mirrors it later (here: an hour earlier).
    closed_ms = live.deadline_ms - 1 if closing.startswith("sealed") else live.deadline_ms
    if closing.startswith("sealed"):
        outcome = processed(runtime, batch_id, 1)
        assert outcome.content_hash is not None
        coordinator = runtime.coordinator
        assert coordinator.claim(batch_id, outcome.submission_id, outcome.content_hash, closed_ms).sealed
    else:
        assert [b.batch_id for b in runtime.coordinator.expire_due(closed_ms, 10)] == [batch_id]
    if closing.endswith("finalizing"):
        assert runtime.coordinator.begin_finalize(batch_id, closed_ms + 5_000, 60_000).acquired
    plan_completion(runtime, batch_id)
    closed_at = datetime.fromtimestamp(closed_ms / 1000, UTC)
    with unit_of_work(runtime.engine, read_only=True) as session:
        stored = load_batch(session, batch_id)
    assert stored is not None and stored.closed_at == closed_at
    kind = BatchState.EXPIRED if closing == "expired" else BatchState.SEALED
    (event,) = events(runtime, batch_id, f"batch.{kind.value}")
    data = event["data"]
    assert isinstance(data, dict) and isinstance(event["occurred_at"], str)
    assert datetime.fromisoformat(str(data["closed_at"])) == closed_at
    assert datetime.fromisoformat(event["occurred_at"]) == closed_at


def test_a_slot_is_analysed_by_the_settle_that_claims_it_and_the_chord_takes_only_the_rest(
    runtime: Runtime,
) -> None:
    batch_id = register_batch(runtime, 2)
    outcome = processed(runtime, batch_id, 1)
    analysed = settle(runtime, outcome)
    # An outcome without its batch's language (as from a worker of an earlier release) is not analysed.
    pending = settle(runtime, replace(processed(runtime, batch_id, 2), language=None))
    first_id, second_id = analysed.essay_id, pending.essay_id
    assert pending.sealed and first_id is not None and second_id is not None
    with unit_of_work(runtime.engine, read_only=True) as session:
        first, second = load_essay(session, first_id), load_essay(session, second_id)
    assert first is not None and first.state is EssayState.ANALYSED and first.analysis is not None
    assert outcome.text is not None and outcome.language is not None
    assert EssayAnalysis.from_json(first.analysis) == analyse_text(outcome.text, outcome.language)
    assert second is not None and second.state is EssayState.READY and second.analysis is None
    plan = plan_completion(runtime, batch_id)
    assert plan.essay_ids == (second_id,)
