"""Deadlines, crashes between steps and redelivery: every batch completes exactly once."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import pytest
from celery import Celery
from celery.worker.worker import WorkController
from sqlalchemy import func, select

from bootstrap import installed_runtime as get_runtime
from coordinator import BatchState
from coordinator.clock import now_ms
from db.batches import load_report
from db.models import OutboxEvent, Submission
from db.session import unit_of_work
from els.ids import public_id
from services.intake import Upload, submit_essays
from services.process import process_and_settle, process_submission
from services.runtime import Runtime
from services.settle import settle
from services.sweep import sweep
from tasks.dispatch import CeleryDispatcher
from tests.e2e.test_pipeline import ESSAYS
from tests.support.batches import register_batch, submit, wait_for_assigned, wait_for_state

HOUR_MS = 3600 * 1000


def completed_events(runtime: Runtime, batch_id: str) -> int:
    with unit_of_work(runtime.engine, read_only=True) as session:
        count = session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.aggregate_id == batch_id, OutboxEvent.event_type == "batch.completed")
        )
    return int(count or 0)


def test_deadline_expires_a_half_full_batch_and_names_missing_slots(els_worker: WorkController) -> None:
    runtime = get_runtime()
    batch_id = register_batch(runtime, 3, deadline_seconds=60)
    submit(runtime, batch_id, "one.txt", ESSAYS[0].encode())
    wait_for_assigned(runtime, batch_id, 1)
    assert batch_id in sweep(runtime, now_ms() + 120_000).to_complete
    wait_for_state(runtime, batch_id, BatchState.DONE)
    with unit_of_work(runtime.engine, read_only=True) as session:
        report = load_report(session, batch_id)
    assert report is not None
    counts = report["counts"]
    assert isinstance(counts, dict)
    assert (counts["analysed"], counts["missing"]) == (1, 2)
    rows = report["essays"]
    assert isinstance(rows, list)
    missing = sorted(
        str(row["essay_id"]) for row in rows if isinstance(row, dict) and row["status"] == "missing"
    )
    assert missing == [f"{batch_id}-002", f"{batch_id}-003"]
    assert completed_events(runtime, batch_id) == 1


class BrokerGoneDispatcher(CeleryDispatcher):
    """The real dispatcher, but the broker stops answering when the sweep resubmits a submission."""

    def process(self, batch_id: str, submission_id: str, correlation_id: str) -> None:
        raise ConnectionError("broker went away mid-sweep")


def test_a_sweep_that_fails_late_has_already_dispatched_the_batches_it_expired(
    els_worker: WorkController, celery_app: Celery
) -> None:
    runtime = get_runtime()
    due = register_batch(runtime, 2, deadline_seconds=60)
    # A stale submission makes the sweep resubmit, which then fails, after the expiry.
    stale_batch = register_batch(runtime, 1, deadline_seconds=6 * 3600)
    submit(runtime, stale_batch, "lost.txt", ESSAYS[0].encode(), enqueue=False)
    patience_ms = max(runtime.settings.stuck_after_seconds, runtime.settings.visibility_timeout) * 1000
    failing = replace(runtime, dispatcher=BrokerGoneDispatcher(celery_app, runtime.settings.queue))
    with pytest.raises(ConnectionError):
        sweep(failing, now_ms() + patience_ms + 1000)
    # Expired exactly once, and its completion went out before the failure: no second sweep needed.
    wait_for_state(runtime, due, BatchState.DONE)
    assert completed_events(runtime, due) == 1


def test_crash_between_seal_and_dispatch_is_finalized_once_by_the_sweep(els_worker: WorkController) -> None:
    runtime = get_runtime()
    batch_id = register_batch(runtime, 2)
    outcomes = []
    for number, text in enumerate(ESSAYS[:2]):
        submission_id = submit(runtime, batch_id, f"{number}.txt", text.encode(), enqueue=False)
        outcomes.append(process_submission(runtime, batch_id, submission_id, "corr"))
    # Settle both but never dispatch: the worker that sealed the batch "died" right after the seal.
    results = [settle(runtime, outcome) for outcome in outcomes]
    assert [result.sealed for result in results] == [False, True]
    assert runtime.coordinator.status(batch_id) is not None
    later = now_ms() + HOUR_MS
    assert batch_id in sweep(runtime, later).to_complete
    wait_for_state(runtime, batch_id, BatchState.DONE)
    assert batch_id not in sweep(runtime, later + HOUR_MS).to_complete
    assert completed_events(runtime, batch_id) == 1


def test_redelivered_processing_after_done_changes_nothing(els_worker: WorkController) -> None:
    runtime = get_runtime()
    batch_id = register_batch(runtime, 1)
    submission_id = submit(runtime, batch_id, "one.txt", ESSAYS[0].encode())
    before = wait_for_state(runtime, batch_id, BatchState.DONE)
    again = settle(runtime, process_submission(runtime, batch_id, submission_id, "corr"))
    assert again.replayed and not again.sealed
    assert again.essay_id == before.records[0].essay_id
    after = runtime.coordinator.status(batch_id)
    assert after is not None
    assert (after.state, after.assigned, after.excess, after.duplicates) == (BatchState.DONE, 1, 0, 0)
    with unit_of_work(runtime.engine, read_only=True) as session:
        states = session.scalars(select(Submission.state).where(Submission.batch_id == batch_id)).all()
    assert list(states) == ["ready"]
    assert completed_events(runtime, batch_id) == 1


def test_a_lost_processing_message_is_resubmitted_by_the_sweep_once_stale(els_worker: WorkController) -> None:
    runtime = get_runtime()
    batch_id = register_batch(runtime, 1, deadline_seconds=6 * 3600)  # outlives the sweeps' clock
    # Stored but never enqueued: as if the broker dropped the message a crashed worker had fetched.
    submission_id = submit(runtime, batch_id, "one.txt", ESSAYS[0].encode(), enqueue=False)
    resubmitted = sweep(runtime, now_ms()).resubmitted
    assert submission_id not in {stale.submission_id for stale in resubmitted}  # not stale yet
    patience_ms = max(runtime.settings.stuck_after_seconds, runtime.settings.visibility_timeout) * 1000
    later = now_ms() + patience_ms + 1000
    resubmitted = sweep(runtime, later).resubmitted
    assert submission_id in {stale.submission_id for stale in resubmitted}
    status = wait_for_state(runtime, batch_id, BatchState.DONE)
    assert status.records[0].submission_id == submission_id
    # Its clock restarted at the resubmission: the next sweep does not hand it out again.
    assert submission_id not in {s.submission_id for s in sweep(runtime, later + 1000).resubmitted}


def test_an_upload_after_the_deadline_closes_the_batch_without_a_sweep(els_worker: WorkController) -> None:
    runtime = get_runtime()
    batch_id = register_batch(runtime, 2, deadline_seconds=1)
    time.sleep(1.1)
    submit(runtime, batch_id, "late.txt", ESSAYS[0].encode())
    status = wait_for_state(runtime, batch_id, BatchState.DONE)
    # The deadline's countdown may have expired the batch before the late upload settled: wait for it.
    give_up = time.monotonic() + 60
    while status.excess < 1 and time.monotonic() < give_up:
        time.sleep(0.1)
        status = wait_for_state(runtime, batch_id, BatchState.DONE)
    assert (status.closed_as, status.assigned, status.excess) == (BatchState.EXPIRED, 0, 1)
    assert status.missing_essay_ids == (f"{batch_id}-001", f"{batch_id}-002")
    assert completed_events(runtime, batch_id) == 1


def test_the_report_takes_slot_outcomes_from_redis_while_sql_lags(els_worker: WorkController) -> None:
    runtime = get_runtime()
    batch_id = register_batch(runtime, 2)
    lagging = submit(runtime, batch_id, "empty.txt", b"", enqueue=False)
    # Redis records the failure; the settle that would mirror it into SQL has not landed (it retries).
    runtime.coordinator.fail(batch_id, lagging, "EMPTY_CONTENT", "the file is empty", now_ms())
    submit(runtime, batch_id, "one.txt", ESSAYS[0].encode())
    wait_for_state(runtime, batch_id, BatchState.DONE)
    with unit_of_work(runtime.engine, read_only=True) as session:
        report = load_report(session, batch_id)
    assert report is not None
    assert report["counts"] == {
        "expected": 2,
        "analysed": 1,
        "failed": 1,
        "analysis_failed": 0,
        "missing": 0,
        "excess": 0,
        "duplicates": 0,
    }


def test_a_resubmission_racing_the_original_still_takes_one_slot(els_worker: WorkController) -> None:
    # A settle can retry for longer than the visibility timeout, so the sweep may resubmit a submission
    # whose first message is still in flight: both run, side by side, and must come to one slot. (Each
    # run counts a processing start, so more copies at once than ELS_MAX_PROCESSING_ATTEMPTS would
    # look like a file that crashes its worker.)
    runtime = get_runtime()
    batch_id = register_batch(runtime, 2)
    submission_id = submit(runtime, batch_id, "twice.txt", ESSAYS[0].encode(), enqueue=False)
    runs = [
        threading.Thread(target=process_and_settle, args=(runtime, batch_id, submission_id, "corr"))
        for _ in range(2)
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    status = runtime.coordinator.status(batch_id)
    assert status is not None
    assert (status.assigned, status.failed, status.excess, status.duplicates) == (1, 0, 0, 0)
    with unit_of_work(runtime.engine, read_only=True) as session:
        states = session.scalars(select(Submission.state).where(Submission.batch_id == batch_id)).all()
    assert list(states) == ["ready"]


@dataclass
class BacklogDispatcher:
    """Holds every processing request instead of sending it: the uploads wait behind a backlog."""

    waiting: list[tuple[str, str, str]] = field(default_factory=list)

    def process(self, batch_id: str, submission_id: str, correlation_id: str) -> None:
        self.waiting.append((batch_id, submission_id, correlation_id))

    def follow_registration(self, batch_id: str, correlation_id: str) -> None:
        raise AssertionError("intake of an upload follows no registration")

    def complete(self, batch_id: str) -> None:
        raise AssertionError("intake of an upload completes no batch")

    def analyse_then_finalize(self, batch_id: str, essay_ids: Sequence[str]) -> None:
        raise AssertionError("intake of an upload analyses nothing")

    def relay(self) -> None:
        raise AssertionError("intake of an upload relays nothing")

    def expire_at(self, batch_id: str, when_ms: int) -> None:
        raise AssertionError("intake of an upload schedules no expiry")

    def send_webhooks(self, countdown: float = 0.0) -> None:
        raise AssertionError("intake of an upload sends no webhook")

    def ping(self) -> None:
        """Always reachable."""


def test_uploads_received_before_the_deadline_take_their_slots_however_late_they_are_processed(
    els_worker: WorkController,
) -> None:
    runtime = get_runtime()
    batch_id = register_batch(runtime, 2, deadline_seconds=1)
    backlog = BacklogDispatcher()
    uploads = [Upload(f"{n}.txt", "text/plain", text.encode()) for n, text in enumerate(ESSAYS[:2])]
    submit_essays(
        replace(runtime, dispatcher=backlog),
        "teacher-1",
        public_id(batch_id),
        uploads,
        correlation_id="corr-backlog",
    )
    assert len(backlog.waiting) == 2
    opened = runtime.coordinator.status(batch_id)
    assert opened is not None
    while now_ms() <= opened.deadline_ms:  # the backlog outlasts the deadline
        time.sleep(0.05)
    swept = sweep(runtime)  # finds the batch due, but both uploads were received in time
    for waiting in backlog.waiting:
        runtime.dispatcher.process(*waiting)
    status = wait_for_state(runtime, batch_id, BatchState.DONE)
    assert (status.closed_as, status.assigned, status.excess, status.missing_essay_ids) == (
        BatchState.SEALED,
        2,
        0,
        (),
    )
    with unit_of_work(runtime.engine, read_only=True) as session:
        report = load_report(session, batch_id)
    assert report is not None
    counts = report["counts"]
    assert isinstance(counts, dict)
    assert (counts["analysed"], counts["excess"], counts["missing"]) == (2, 0, 0)
    assert completed_events(runtime, batch_id) == 1
    assert swept.ran and batch_id not in swept.expired
