"""Redis can lose its last second of writes (`appendfsync everysec`, a failover): SQL must not diverge.

A claim Redis acknowledged and SQL mirrored is lost; the next claim is handed the same slot. SQL follows
Redis, the source of truth, and the submission whose claim was lost claims again.
"""

from __future__ import annotations

import redis
from celery.worker.worker import WorkController
from sqlalchemy import select

from bootstrap import installed_runtime as get_runtime
from coordinator import Outcome
from db.models import Essay, Submission
from db.session import unit_of_work
from services.process import process_submission
from services.runtime import Runtime
from services.settle import settle
from tests.e2e.test_pipeline import ESSAYS
from tests.support.batches import register_batch, submit


def snapshot(client: redis.Redis, keys: tuple[str, ...]) -> dict[str, bytes | None]:
    """Each key's DUMP (None for a key that does not exist)."""
    dumps: dict[str, bytes | None] = {}
    for key in keys:
        dumped = client.dump(key)
        dumps[key] = dumped if isinstance(dumped, bytes) else None
    return dumps


def restore(client: redis.Redis, dumps: dict[str, bytes | None]) -> None:
    """Put every key back as it was when `dumps` was taken, as a Redis that lost its last writes would."""
    for key, dumped in dumps.items():
        client.delete(key)
        if dumped is not None:
            client.restore(key, 0, dumped)


def slots_in_sql(runtime: Runtime, batch_id: str) -> dict[str, str | None]:
    with unit_of_work(runtime.engine, read_only=True) as session:
        rows = session.execute(
            select(Essay.essay_id, Essay.submission_id).where(Essay.batch_id == batch_id)
        ).all()
    return {essay_id: submission_id for essay_id, submission_id in rows}


def test_a_claim_redis_lost_is_claimed_again_and_sql_follows_redis(
    els_worker: WorkController, redis_client: redis.Redis
) -> None:
    runtime = get_runtime()
    batch_id = register_batch(runtime, 2)
    first, second = (
        process_submission(
            runtime, batch_id, submit(runtime, batch_id, f"{n}.txt", text.encode(), enqueue=False), "c"
        )
        for n, text in enumerate(ESSAYS[:2])
    )
    keys = runtime.coordinator.config.keys.batch(batch_id)
    before = snapshot(redis_client, (keys.hash, keys.pending))

    lost = settle(runtime, first)
    assert lost.outcome is Outcome.ASSIGNED  # acknowledged and mirrored into SQL ...
    restore(redis_client, before)  # ... and then lost by Redis

    rehanded = settle(runtime, second)
    assert rehanded.outcome is Outcome.ASSIGNED
    assert rehanded.essay_id == lost.essay_id  # Redis hands the same slot out again
    again = settle(runtime, first)  # the displaced submission claims again
    assert again.outcome is Outcome.ASSIGNED and again.essay_id != lost.essay_id

    status = runtime.coordinator.status(batch_id)
    assert status is not None
    in_redis = {record.essay_id: record.submission_id for record in status.records}
    assert slots_in_sql(runtime, batch_id) == in_redis
    with unit_of_work(runtime.engine, read_only=True) as session:
        states = session.scalars(select(Submission.state).where(Submission.batch_id == batch_id)).all()
    assert sorted(states) == ["ready", "ready"]
