"""An essay's path writes SQL once: its text with its slot and events (its start is counted in Redis)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event, select

from coordinator import Outcome
from db.models import OutboxEvent, Submission
from db.session import unit_of_work
from els.ids import public_id
from essays.lifecycle import SubmissionState
from services.intake import Upload, submit_essays
from services.process import process_and_settle, process_submission
from services.runtime import Runtime
from services.settle import decide, settle
from tests.integration.services.support import essay
from tests.support.batches import register_batch, submit


@contextmanager
def commits(engine: Engine) -> Iterator[list[int]]:
    """Count the transactions committed on `engine` inside the block."""
    counted: list[int] = []

    def count(_connection: object) -> None:
        counted.append(1)

    event.listen(engine, "commit", count)
    try:
        yield counted
    finally:
        event.remove(engine, "commit", count)


def test_a_fresh_essay_commits_one_unit_with_text_slot_and_events(runtime: Runtime) -> None:
    batch_id = register_batch(runtime, 2)
    submission_id = submit(runtime, batch_id, "one.txt", essay(1), enqueue=False)
    with commits(runtime.engine) as counted:
        process_and_settle(runtime, batch_id, submission_id, "corr")
    assert len(counted) == 1
    with unit_of_work(runtime.engine, read_only=True) as session:
        stored = session.get(Submission, submission_id)
        types = session.scalars(
            select(OutboxEvent.event_type).where(OutboxEvent.aggregate_id == batch_id)
        ).all()
        assert stored is not None and stored.state == SubmissionState.READY.value
        assert stored.text_sha256 is not None and stored.essay_id is not None
    assert "essay.slot_assigned" in types


def test_a_crash_between_the_claim_and_its_unit_leaves_nothing_half_written(runtime: Runtime) -> None:
    batch_id = register_batch(runtime, 2)
    submission_id = submit(runtime, batch_id, "one.txt", essay(1), enqueue=False)
    # The first delivery processes and claims in Redis, then dies before its one SQL unit.
    claimed = decide(runtime, process_submission(runtime, batch_id, submission_id, "corr"))
    with unit_of_work(runtime.engine, read_only=True) as session:
        stored = session.get(Submission, submission_id)
        assert stored is not None and stored.content_hash is None and stored.essay_id is None
    # The redelivery processes again; Redis replays the same slot, and SQL records it all at once.
    process_and_settle(runtime, batch_id, submission_id, "corr")
    with unit_of_work(runtime.engine, read_only=True) as session:
        stored = session.get(Submission, submission_id)
        assert stored is not None and stored.state == SubmissionState.READY.value
        assert stored.essay_id == claimed.essay_id and stored.content_hash is not None


def test_an_upload_that_killed_every_start_fails_once_its_starts_run_out(runtime: Runtime) -> None:
    batch_id = register_batch(runtime, 2)
    submission_id = submit(runtime, batch_id, "one.txt", essay(1), enqueue=False)
    for _ in range(runtime.settings.max_processing_attempts):  # each start died before it settled
        assert process_submission(runtime, batch_id, submission_id, "corr").kind == "processed"
    crashed = process_submission(runtime, batch_id, submission_id, "corr")
    assert (crashed.kind, crashed.code) == ("rejected", "PROCESSING_CRASHED")
    result = settle(runtime, crashed)
    assert result.outcome is Outcome.FAILED and result.code == "PROCESSING_CRASHED"
    # Settled: the count is gone with the receipt, and a redelivery is not counted again.
    assert runtime.coordinator.start_attempt(batch_id, submission_id) == 0


def test_a_request_of_many_files_stores_them_in_one_unit_after_one_read(runtime: Runtime) -> None:
    batch_id = register_batch(runtime, 5)
    uploads = [Upload(f"{number}.txt", "text/plain", essay(number)) for number in range(5)]
    begun: list[int] = []

    def count(_connection: object) -> None:
        begun.append(1)

    event.listen(runtime.engine, "begin", count)
    try:
        with commits(runtime.engine) as counted:
            accepted = submit_essays(runtime, "teacher-1", public_id(batch_id), uploads, correlation_id="c")
    finally:
        event.remove(runtime.engine, "begin", count)
    assert len(accepted) == 5 and len(counted) == 1
    # Without an idempotency key nothing can be a replay, and Redis's gate says whose batch it is: SQL
    # is read once (which bytes are recorded already), then written once.
    assert len(begun) == 2
