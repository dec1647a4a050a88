"""Issue row 9: a worker enforces its own time limits on processing, whatever the sender stamped.

The sender's app stamps generous limits (900 s soft) into the message; the worker process is started with
ELS_PROCESS_SOFT_TIME_LIMIT=2, and an upload that never finishes is stopped by that limit: it fails for
good as PROCESSING_FAILED and the batch completes, after one run of the hanging code.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery._state import get_current_app

import celeryconfig
from bootstrap import build_runtime
from coordinator import BatchState, Outcome
from els.settings import Settings
from services.runtime import Runtime
from tasks.timelimits import tighter
from tests.e2e.test_pipeline import ESSAYS
from tests.support.batches import register_batch, submit, wait_for_state
from tests.support.faults import FAULT_LOG_ENV, HANG_PREFIX, fault_count
from tests.support.workers import FAULTY_APP, WorkerFleet

SENDER_SOFT_LIMIT = 900


@pytest.fixture
def generous_sender(worker_settings: Settings) -> Iterator[Runtime]:
    """A runtime whose app stamps a 900 s soft limit on processing, on a queue and prefix of its own."""
    previous = get_current_app()
    tag = uuid.uuid4().hex[:10]
    settings = Settings(
        redis_url=worker_settings.redis_url,
        database_url=worker_settings.database_url,
        key_prefix=f"elstest-t{tag}",
        queue=f"els-test-t{tag}",
        process_soft_time_limit=SENDER_SOFT_LIMIT,
        process_time_limit=SENDER_SOFT_LIMIT + 60,
    )
    runtime = build_runtime(settings)
    previous.set_current()
    yield runtime
    runtime.close()


def test_the_limits_are_on_the_processing_task_and_from_settings() -> None:
    settings = Settings(process_soft_time_limit=7, process_time_limit=9)
    annotations = celeryconfig.build(settings)["task_annotations"]
    assert isinstance(annotations, dict)
    assert annotations[celeryconfig.PROCESS_TASK] == {"soft_time_limit": 7, "time_limit": 9}
    # Never above the general limits.
    capped = celeryconfig.build(Settings(task_soft_time_limit=5, task_time_limit=6))["task_annotations"]
    assert isinstance(capped, dict)
    assert capped[celeryconfig.PROCESS_TASK] == {"soft_time_limit": 5, "time_limit": 6}
    assert tighter(900, 7) == 7 and tighter(None, 7) == 7 and tighter(3, 7) == 3 and tighter(5, None) == 5


def test_soft_limit_must_be_below_the_hard_one() -> None:
    with pytest.raises(ValueError, match="ELS_PROCESS_SOFT_TIME_LIMIT"):
        Settings(process_soft_time_limit=90, process_time_limit=90)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_worker_stops_a_hanging_upload_at_its_own_soft_limit(
    generous_sender: Runtime, tmp_path: Path
) -> None:
    runtime = generous_sender
    fault_log = tmp_path / "faults.log"
    batch_id = register_batch(runtime, 2)
    hanging = submit(runtime, batch_id, f"{HANG_PREFIX}essay.txt", ESSAYS[0].encode())
    good = submit(runtime, batch_id, "good.txt", ESSAYS[1].encode())
    worker_settings = runtime.settings.model_copy(
        update={"process_soft_time_limit": 2, "process_time_limit": 30}
    )
    fleet = WorkerFleet(
        worker_settings,
        tmp_path,
        size=1,
        concurrency=1,
        app_module=FAULTY_APP,
        **{FAULT_LOG_ENV: str(fault_log)},
    )
    with fleet:
        try:
            status = wait_for_state(runtime, batch_id, BatchState.DONE, timeout=120)
        except AssertionError as error:
            raise AssertionError(f"{error}\n{fleet.log_tails()}") from error
    outcomes = {record.submission_id: (record.outcome, record.code) for record in status.records}
    assert outcomes == {hanging: (Outcome.FAILED, "PROCESSING_FAILED"), good: (Outcome.ASSIGNED, None)}
    # Stopped by the soft limit in its first run: not retried, not killed and redelivered.
    assert fault_count(fault_log, f"{HANG_PREFIX}essay.txt") == 1
