"""Settling against the real Redis, PostgreSQL and broker: completion is never lost, SQL follows Redis."""

from __future__ import annotations

from dataclasses import replace

import pytest
import redis
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from coordinator import BatchState, Outcome, now_ms
from db.batches import load_report
from db.models import Essay, Failure, Submission
from db.session import unit_of_work
from services.completion import plan_completion
from services.finalize import finalize_batch
from services.runtime import Runtime
from services.settle import settle, settle_and_dispatch
from tests.integration.services.support import (
    events,
    processed,
    queued_tasks,
    rejected,
    submissions_in,
)
from tests.support.batches import register_batch, submit


def test_a_retry_after_the_sealing_claim_still_dispatches_completion(
    runtime: Runtime, broken_engine: Engine, redis_client: redis.Redis
) -> None:
    batch_id = register_batch(runtime, 1)
    outcome = processed(runtime, batch_id, 1)
    # The claim seals the batch in Redis, then the SQL mirror fails: the task raises and is retried.
    with pytest.raises(SQLAlchemyError):
        settle_and_dispatch(replace(runtime, engine=broken_engine), outcome)
    status = runtime.coordinator.status(batch_id)
    assert status is not None and status.state is BatchState.SEALED
    settle_and_dispatch(runtime, outcome)  # the retry: Redis replays the claim
    assert ("els.complete_batch", f"els-complete-{batch_id}") in queued_tasks(redis_client, runtime)


@pytest.mark.parametrize("second", ["rejected", "processed"])
def test_a_failure_is_mirrored_with_the_code_and_detail_redis_recorded(runtime: Runtime, second: str) -> None:
    batch_id = register_batch(runtime, 2)
    submission_id = submit(runtime, batch_id, "one.pdf", b"%PDF-1.4", enqueue=False)
    # The first attempt failed in Redis and crashed before its SQL mirror.
    first = runtime.coordinator.fail(batch_id, submission_id, "PDF_TIMEOUT", "gave up after 10 s", now_ms())
    assert first.outcome is Outcome.FAILED
    # The redelivery fails in another way (or even processes the upload) and settles again.
    if second == "rejected":
        again = rejected(batch_id, submission_id, "PROCESSING_FAILED", "")
    else:
        again = replace(processed(runtime, batch_id, 1), submission_id=submission_id)
    assert settle(runtime, again).replayed
    with unit_of_work(runtime.engine, read_only=True) as session:
        stored = session.get(Submission, submission_id)
        failure = session.scalars(select(Failure).where(Failure.submission_id == submission_id)).one()
        essay = session.get(Essay, first.essay_id)
        assert stored is not None and essay is not None
        mirrored = [
            (stored.state, stored.error_code, stored.error_detail),
            ("failed", failure.code, failure.detail),
            (essay.state, essay.error_code, essay.error_detail),
        ]
    recorded = ("PDF_TIMEOUT", "gave up after 10 s")
    assert mirrored == [("failed", *recorded)] * 3
    (event,) = events(runtime, batch_id, "essay.validation_failed")
    data = event["data"]
    assert isinstance(data, dict) and (data["code"], data["detail"]) == recorded


def test_late_uploads_are_excess_alike_in_redis_sql_events_and_report(runtime: Runtime) -> None:
    batch_id = register_batch(runtime, 1)
    assert settle(runtime, processed(runtime, batch_id, 1)).sealed
    late_good = settle(runtime, processed(runtime, batch_id, 2))
    late_bad_id = submit(runtime, batch_id, "empty.txt", b"", enqueue=False)
    late_bad = settle(runtime, rejected(batch_id, late_bad_id, "EMPTY_CONTENT", "the file is empty"))
    assert (late_good.outcome, late_bad.outcome) == (Outcome.EXCESS, Outcome.EXCESS)
    plan_completion(runtime, batch_id)
    status = runtime.coordinator.status(batch_id)
    assert finalize_batch(runtime, batch_id)
    with unit_of_work(runtime.engine, read_only=True) as session:
        report = load_report(session, batch_id)
    assert status is not None and report is not None
    counts = report["counts"]
    assert isinstance(counts, dict)
    assert status.excess == 2
    assert submissions_in(runtime, batch_id, "excess") == 2
    assert len(events(runtime, batch_id, "essay.excess_content")) == 2
    assert counts["excess"] == 2
    assert events(runtime, batch_id, "essay.validation_failed") == []
