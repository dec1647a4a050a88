"""Helpers of the service tests: distinct essays, processed submissions, what the queue and SQL hold."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from celery._state import get_current_app
from sqlalchemy import func, select

import bootstrap
from db.migrate import upgrade
from db.models import OutboxEvent, Submission
from db.session import unit_of_work
from els.settings import Settings
from services.outcomes import ProcessOutcome
from services.process import process_submission
from services.runtime import Runtime
from tests.support.batches import submit

WORDS = ("rivers", "carve", "valleys", "while", "farmers", "plant", "crops", "and", "libraries", "lend")


def essay(number: int) -> bytes:
    """A valid essay of its own content: thirty words, then its number."""
    return (" ".join(WORDS[i % len(WORDS)] for i in range(30)) + f" number {number}.").encode()


def processed(runtime: Runtime, batch_id: str, number: int) -> ProcessOutcome:
    """A stored upload of essay `number`, processed but not settled: SQL records its text with its slot."""
    submission_id = submit(runtime, batch_id, f"{number}.txt", essay(number), enqueue=False)
    outcome = process_submission(runtime, batch_id, submission_id, f"corr-{batch_id}")
    assert outcome.kind == "processed"
    return outcome


def rejected(batch_id: str, submission_id: str, code: str, detail: str) -> ProcessOutcome:
    """The outcome of a processing attempt that rejected the upload with `code`."""
    return ProcessOutcome(
        batch_id=batch_id,
        submission_id=submission_id,
        correlation_id=f"corr-{batch_id}",
        kind="rejected",
        code=code,
        detail=detail,
    )


def queued_tasks(redis_client: redis.Redis, runtime: Runtime) -> list[tuple[str, str]]:
    """(task name, task id) of every message waiting in the runtime's two queues, oldest first per queue."""
    settings = runtime.settings
    messages = [
        message
        for queue in (settings.queue, settings.celery_control_queue)
        for message in reversed(redis_client.lrange(queue, 0, -1))
    ]
    headers = [json.loads(message)["headers"] for message in messages]
    return [(str(header["task"]), str(header["id"])) for header in headers]


def events(runtime: Runtime, batch_id: str, event_type: str) -> list[dict[str, object]]:
    """The outbox payloads of one type about one batch."""
    with unit_of_work(runtime.engine, read_only=True) as session:
        rows = session.scalars(
            select(OutboxEvent.payload).where(
                OutboxEvent.aggregate_id == batch_id, OutboxEvent.event_type == event_type
            )
        ).all()
    return [dict(row) for row in rows]


def submissions_in(runtime: Runtime, batch_id: str, state: str) -> int:
    """How many submissions of the batch SQL holds in `state`."""
    with unit_of_work(runtime.engine, read_only=True) as session:
        count = session.scalar(
            select(func.count())
            .select_from(Submission)
            .where(Submission.batch_id == batch_id, Submission.state == state)
        )
    return int(count or 0)


@contextmanager
def own_sqlite_runtime(
    worker_settings: Settings, key_prefix: str, tmp_path: Path, **update: object
) -> Iterator[Runtime]:
    """A runtime of its own on a migrated SQLite file: this key prefix, its queue, and `update`."""
    database_url = f"sqlite:///{tmp_path / 'own.db'}"
    upgrade(database_url)
    settings = worker_settings.model_copy(
        update={
            "database_url": database_url,
            "key_prefix": key_prefix,
            "queue": f"{key_prefix}-queue",
            **update,
        }
    )
    previous = get_current_app()
    built = bootstrap.build_runtime(settings, bootstrap.create_app(settings))
    previous.set_current()  # creating an app makes it current in this thread; later tests need theirs
    try:
        yield built
    finally:
        built.close()
        redis.Redis.from_url(settings.redis_url).delete(settings.queue, settings.celery_control_queue)
