"""Deadlines hold behind an essay backlog: the sweep and completion run on a queue of their own."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import redis
from celery._state import get_current_app

from bootstrap import build_runtime
from celeryconfig import CONTROL_TASKS, SWEEP_TASK
from coordinator import BatchState
from db.migrate import upgrade
from els.ids import scoped_id
from els.settings import Settings
from services.intake import BatchRequest, register_batch
from tasks.app import create_app
from tests.support.workers import WorkerProcess, worker_environment

BACKLOG = 200


def test_control_tasks_are_routed_apart_from_essay_work() -> None:
    previous = get_current_app()
    app = create_app(Settings(queue="essays"))
    previous.set_current()  # creating an app makes it current in this thread; later tests need theirs

    def queue_of(name: str) -> str:
        return str(app.amqp.router.route({}, name)["queue"].name)

    assert {queue_of(name) for name in CONTROL_TASKS} == {"essays-control"}
    assert queue_of("els.process_essay") == queue_of("els.analyse_essay") == "essays"


def test_a_batch_expires_and_completes_while_essays_wait_in_their_queue(
    redis_url: str, postgres_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    upgrade(postgres_url)
    tag = uuid.uuid4().hex[:8]
    settings = Settings(
        redis_url=redis_url, database_url=postgres_url, key_prefix=f"elstest-c{tag}", queue=f"els-c{tag}"
    )
    previous = get_current_app()
    app = create_app(settings)
    previous.set_current()
    runtime = build_runtime(settings, app)
    worker = WorkerProcess(
        "control", worker_environment(settings), tmp_path, options=("-Q", settings.celery_control_queue)
    )
    try:
        # A backlog of essay messages nobody gets to (this fleet's essay workers are all busy elsewhere).
        redis_client.lpush(settings.queue, *([b"{}"] * BACKLOG))
        batch = register_batch(
            runtime,
            BatchRequest(owner="teacher", correlation_id=f"c-{tag}", expected_count=2, deadline_seconds=1),
        )
        worker.start()
        deadline = batch.deadline_at.timestamp()
        while time.time() <= deadline:
            time.sleep(0.1)
        app.send_task(SWEEP_TASK, expires=30)  # as beat sends it
        give_up = time.monotonic() + 60
        status = runtime.coordinator.status(scoped_id("teacher", batch.batch_id))
        while status is not None and status.state is not BatchState.DONE and time.monotonic() < give_up:
            time.sleep(0.2)
            status = runtime.coordinator.status(scoped_id("teacher", batch.batch_id))
        assert status is not None and status.state is BatchState.DONE, worker.log_tail()
        assert status.closed_as is BatchState.EXPIRED
        assert redis_client.llen(settings.queue) == BACKLOG  # no essay work was needed, none was taken
    finally:
        worker.stop()
        redis_client.delete(settings.queue, settings.celery_control_queue)
        runtime.close()
