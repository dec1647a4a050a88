"""Webhooks end to end: a real worker process (with its beat) delivers signed batch events to a real
receiver on 127.0.0.1 that answers 500 twice and then 200; each event is accepted exactly once, also when
the sender is killed in the middle of a delivery."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from celery._state import get_current_app

from bootstrap import build_runtime
from celeryconfig import SWEEP_TASK
from coordinator import BatchState
from db.migrate import upgrade
from els.events import event_id_for
from els.ids import scoped_id
from els.settings import Settings
from services.intake import BatchRequest, register_batch
from services.runtime import Runtime
from services.webhooks import DeliveryState, configure_webhook, list_deliveries, new_secret
from tasks.app import create_app
from tests.support.batches import submit, wait_for_state
from tests.support.webhook_receiver import WebhookReceiver
from tests.support.workers import WorkerProcess, worker_environment

pytestmark = [pytest.mark.webhooks, pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]

ESSAYS = [
    " ".join(f"Essay {n} argues that {topic} shapes how students read and write every day." for _ in range(4))
    for n, topic in enumerate(["gardening", "astronomy", "music", "cooking"])
]


@dataclass
class Deployment:
    """Settings, a runtime to drive ELS from the test, and a worker process to kill and restart."""

    settings: Settings
    runtime: Runtime
    worker: WorkerProcess


@pytest.fixture
def deployment(
    redis_url: str, postgres_url: str, redis_client: redis.Redis, tmp_path: Path
) -> Iterator[Deployment]:
    """ELS with webhooks allowed to reach 127.0.0.1, short backoffs, and one worker running beat too."""
    upgrade(postgres_url)
    tag = uuid.uuid4().hex[:8]
    settings = Settings(
        redis_url=redis_url,
        database_url=postgres_url,
        key_prefix=f"elstest-wh{tag}",
        queue=f"els-wh{tag}",
        webhook_allow_networks="127.0.0.1/32",
        webhook_backoff_seconds=0.5,
        webhook_max_backoff_seconds=2.0,
        webhook_timeout_seconds=10.0,
    )
    previous = get_current_app()
    app = create_app(settings)
    previous.set_current()
    runtime = build_runtime(settings, app)
    worker = WorkerProcess(
        "webhooks", worker_environment(settings), tmp_path, options=("-B", f"--schedule={tmp_path / 'beat'}")
    )
    worker.start()
    try:
        yield Deployment(settings, runtime, worker)
    finally:
        worker.stop()
        redis_client.delete(settings.queue, settings.celery_control_queue)
        runtime.close()


def wait_for_delivered(runtime: Runtime, owner: str, count: int, timeout: float = 120) -> None:
    """Poll until `count` of the owner's deliveries are delivered."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        delivered = list_deliveries(runtime, owner, DeliveryState.DELIVERED)
        if len(delivered) >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"not {count} delivered: {list_deliveries(runtime, owner)}")


def test_every_final_batch_event_is_accepted_exactly_once_after_two_refusals(
    deployment: Deployment,
) -> None:
    runtime, owner = deployment.runtime, f"teacher-wh-{uuid.uuid4().hex[:6]}"
    with WebhookReceiver("whsec_" + "A" * 32) as receiver:
        configured = configure_webhook(runtime, owner, receiver.url)
        assert configured.secret is not None
        receiver.use_secret(configured.secret)

        sealed = register_batch(runtime, BatchRequest(owner=owner, correlation_id="c-s", expected_count=2))
        expiring = register_batch(
            runtime, BatchRequest(owner=owner, correlation_id="c-e", expected_count=2, deadline_seconds=1)
        )
        for index, text in enumerate(ESSAYS[:2]):
            submit(runtime, scoped_id(owner, sealed.batch_id), f"{index}.txt", text.encode())
        while time.time() <= expiring.deadline_at.timestamp():  # it expires with no upload at all
            time.sleep(0.1)
        create_app(deployment.settings).send_task(SWEEP_TASK, expires=30)
        wait_for_state(runtime, scoped_id(owner, sealed.batch_id), BatchState.DONE, timeout=90)
        wait_for_state(runtime, scoped_id(owner, expiring.batch_id), BatchState.DONE, timeout=90)
        wait_for_delivered(runtime, owner, 3)

    expected = {
        str(event_id_for("batch.completed", scoped_id(owner, sealed.batch_id))),
        str(event_id_for("batch.expired", scoped_id(owner, expiring.batch_id))),
        str(event_id_for("batch.completed", scoped_id(owner, expiring.batch_id))),
    }
    seen = receiver.received
    assert seen.bad_signatures == 0
    assert dict(seen.accepted) == dict.fromkeys(expected, 1)
    assert dict(seen.attempts) == dict.fromkeys(expected, 3)
    assert not seen.duplicates
    for message_id, body in seen.bodies.items():
        assert json.loads(body)["event_id"] == message_id  # webhook-id is the event id
    deliveries = list_deliveries(runtime, owner)
    assert {(d.event_id, d.state, d.attempts, d.last_status) for d in deliveries} == {
        (event_id, DeliveryState.DELIVERED, 3, 200) for event_id in expected
    }


def test_a_sender_killed_mid_delivery_redelivers_under_the_same_id_and_the_event_is_accepted_once(
    deployment: Deployment,
) -> None:
    runtime, owner = deployment.runtime, f"teacher-wk-{uuid.uuid4().hex[:6]}"
    secret = new_secret()
    # The third attempt is accepted and its answer held back: the sender is killed while it waits.
    with WebhookReceiver(secret, failures=2, hold_attempt=3) as receiver:
        batch = register_batch(
            runtime,
            BatchRequest(
                owner=owner,
                correlation_id="c-k",
                expected_count=1,
                webhook_url=receiver.url,
                webhook_secret=secret,
            ),
        )
        submit(runtime, scoped_id(owner, batch.batch_id), "only.txt", ESSAYS[3].encode())
        assert receiver.holding.wait(timeout=120), deployment.worker.log_tail()
        deployment.worker.kill()
        receiver.release()
        deployment.worker.start()  # its beat asks for the sender again once the dead attempt's lease ends
        wait_for_delivered(runtime, owner, 1)

    event_id = str(event_id_for("batch.completed", scoped_id(owner, batch.batch_id)))
    seen = receiver.received
    assert seen.bad_signatures == 0
    assert list(seen.attempts) == [event_id]  # every attempt carried the same webhook-id
    assert seen.accepted[event_id] == 1
    assert seen.duplicates[event_id] >= 1  # the redelivery after the kill, recognised by its id
    [delivery] = list_deliveries(runtime, owner)
    assert delivery.state is DeliveryState.DELIVERED
    assert delivery.attempts == seen.attempts[event_id]
