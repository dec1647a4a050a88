"""Final failures of real tasks still settle their slot: the batch always reaches DONE with one report.

Faults are injected through `tests/support/faults.py`: in this process for the in-process worker, and
through `tests.support.faulty_worker` for worker processes of their own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery._state import get_current_app
from celery.worker.worker import WorkController
from sqlalchemy import select

from bootstrap import build_runtime
from bootstrap import installed_runtime as get_runtime
from coordinator import BatchState, Outcome
from db.models import Essay, Submission
from db.session import unit_of_work
from els.settings import Settings
from services.runtime import Runtime
from tests.e2e.test_pipeline import ESSAYS, report_of, report_rows
from tests.e2e.test_pipeline_recovery import completed_events
from tests.support.batches import register_batch, submit, wait_for_state
from tests.support.faults import (
    ANALYSIS_FAULT_MARK,
    FAULT_LOG_ENV,
    fault_count,
    install_faults,
)
from tests.support.workers import FAULTY_APP, WorkerFleet


@pytest.fixture
def injected_faults(monkeypatch: pytest.MonkeyPatch) -> None:
    """Marked uploads and texts fail in this process's (in-process) worker."""
    install_faults(monkeypatch)


@pytest.fixture
def own_runtime(worker_settings: Settings) -> Iterator[Runtime]:
    """A runtime on a queue and key prefix of its own, so only this test's worker processes consume it."""
    previous = get_current_app()
    tag = uuid.uuid4().hex[:10]
    settings = Settings(
        redis_url=worker_settings.redis_url,
        database_url=worker_settings.database_url,
        key_prefix=f"elstest-f{tag}",
        queue=f"els-test-f{tag}",
    )
    runtime = build_runtime(settings)
    previous.set_current()  # creating an app makes it current in this thread; later tests need theirs
    yield runtime
    runtime.close()


def submission_state(runtime: Runtime, submission_id: str) -> tuple[str, str | None]:
    with unit_of_work(runtime.engine, read_only=True) as session:
        row = session.get(Submission, submission_id)
        assert row is not None
        return row.state, row.error_code


def test_a_processing_task_that_fails_for_good_takes_its_slot(
    els_worker: WorkController, injected_faults: None
) -> None:
    runtime = get_runtime()
    batch_id = register_batch(runtime, 1)
    submission_id = submit(runtime, batch_id, "fault-raise-essay.txt", ESSAYS[0].encode())
    status = wait_for_state(runtime, batch_id, BatchState.DONE, timeout=30)
    assert (status.assigned, status.failed, status.excess) == (0, 1, 0)
    [record] = status.records
    assert (record.submission_id, record.outcome, record.code) == (
        submission_id,
        Outcome.FAILED,
        "PROCESSING_FAILED",
    )
    assert submission_state(runtime, submission_id) == ("failed", "PROCESSING_FAILED")
    rows = report_rows(report_of(batch_id))
    assert [(row["status"], row["code"]) for row in rows] == [("failed", "PROCESSING_FAILED")]
    assert completed_events(runtime, batch_id) == 1


@pytest.mark.timeout(180)
def test_an_upload_that_kills_its_worker_child_fails_after_a_few_attempts(
    own_runtime: Runtime, tmp_path: Path
) -> None:
    runtime = own_runtime
    fault_log = tmp_path / "faults.log"
    batch_id = register_batch(runtime, 2)
    crashing = submit(runtime, batch_id, "fault-crash-essay.txt", ESSAYS[0].encode())
    good = submit(runtime, batch_id, "good.txt", ESSAYS[1].encode())
    fleet = WorkerFleet(
        runtime.settings,
        tmp_path,
        size=1,
        concurrency=1,
        app_module=FAULTY_APP,
        **{FAULT_LOG_ENV: str(fault_log)},
    )
    with fleet:
        try:
            status = wait_for_state(runtime, batch_id, BatchState.DONE, timeout=90)
        except AssertionError as error:
            raise AssertionError(f"{error}\n{fleet.log_tails()}") from error
    outcomes = {record.submission_id: (record.outcome, record.code) for record in status.records}
    assert outcomes == {crashing: (Outcome.FAILED, "PROCESSING_CRASHED"), good: (Outcome.ASSIGNED, None)}
    assert submission_state(runtime, crashing) == ("failed", "PROCESSING_CRASHED")
    processed = fault_count(fault_log, "fault-crash-essay.txt")
    assert 1 <= processed <= runtime.settings.max_processing_attempts + 1
    counts = report_of(batch_id)["counts"]
    assert isinstance(counts, dict)
    assert (counts["analysed"], counts["failed"]) == (1, 1)
    assert completed_events(runtime, batch_id) == 1


def test_an_analysis_that_raises_fails_its_essay_and_the_batch_completes(
    els_worker: WorkController, injected_faults: None
) -> None:
    runtime = get_runtime()
    batch_id = register_batch(runtime, 2)
    submit(runtime, batch_id, "one.txt", ESSAYS[0].encode())
    submit(runtime, batch_id, "marked.txt", f"{ESSAYS[1]} {ANALYSIS_FAULT_MARK}".encode())
    wait_for_state(runtime, batch_id, BatchState.DONE, timeout=30)
    report = report_of(batch_id)
    counts = report["counts"]
    assert isinstance(counts, dict)
    assert (counts["analysed"], counts["analysis_failed"], counts["failed"]) == (1, 1, 0)
    failed = [(row["status"], row["code"]) for row in report_rows(report) if row["status"] != "analysed"]
    assert failed == [("analysis_failed", "ANALYSIS_FAILED")]
    with unit_of_work(runtime.engine, read_only=True) as session:
        states = sorted(session.scalars(select(Essay.state).where(Essay.batch_id == batch_id)))
    assert states == ["analysed", "analysis_failed"]
    assert completed_events(runtime, batch_id) == 1
