"""Every alert of deploy/prometheus/alerts.yml: its condition made true, its expression true on /metrics.

Each test scrapes the metrics text before and after causing the condition through the real services on
real Redis and SQLite: the workers' registry for counters (what a worker's /metrics serves), the API's
registry after a gauge refresh for gauges (what the API's /metrics serves). The expression must be
false before and true after.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import prometheus_client
import pytest
import redis
from celery._state import get_current_app

import bootstrap
from api import metrics as api_metrics
from coordinator import now_ms
from db.outbox import add_event
from db.session import unit_of_work
from els.errors import NotReadyError
from els.events import BatchCompleted, BatchCompletedData
from els.settings import Settings
from services.intake import BatchRequest
from services.intake import register_batch as register_through_intake
from services.process import process_and_settle, record_processing_failure
from services.relay import relay_now
from services.runtime import Runtime
from services.settle import settle
from services.sweep import sweep
from services.webhook_delivery import send_due_webhooks
from services.webhooks import configure_webhook, queue_delivery
from tasks.publisher import KombuPublisher
from tests.integration.services.support import own_sqlite_runtime, processed
from tests.support.batches import register_batch, submit
from tests.support.prometheus import RULES, Rule, load_rules

ALERTS = load_rules()


@pytest.fixture
def runtime(worker_settings: Settings, key_prefix: str, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime whose outbox and webhooks are this test's alone, so relaying or counting them touches
    nobody else's; no late grace, one publish attempt and one delivery attempt."""
    update = {"late_grace_seconds": 0, "outbox_max_attempts": 1, "webhook_max_attempts": 1}
    with own_sqlite_runtime(worker_settings, key_prefix, tmp_path, **update) as built:
        yield built


def worker_metrics() -> str:
    """The exposition a worker's /metrics serves (one process: its registry holds every ELS counter)."""
    return prometheus_client.generate_latest(prometheus_client.REGISTRY).decode()


def api_metrics_for(runtime: Runtime) -> Callable[[], str]:
    """The exposition the API's /metrics serves, right after a gauge refresh over `runtime`."""

    def scrape() -> str:
        api_metrics.refresh_gauges(runtime)
        return prometheus_client.generate_latest(api_metrics.REGISTRY).decode()

    return scrape


def turns_true(rule: Rule, scrape: Callable[[], str], cause: Callable[[], object]) -> None:
    """The rule's expression is false before `cause` and true after it."""
    before = scrape()
    assert not rule.fires(before, before), f"{rule.alert} fires before its condition: {rule.expr}"
    cause()
    after = scrape()
    assert rule.fires(before, after), f"{rule.alert} does not fire: {rule.expr}"


def sealed_batch(runtime: Runtime) -> str:
    batch_id = register_batch(runtime, 1)
    assert settle(runtime, processed(runtime, batch_id, 1)).sealed
    return batch_id


def past_stuck(runtime: Runtime) -> int:
    return now_ms() + (runtime.settings.stuck_after_seconds + 1) * 1000


def test_every_rule_has_a_test_here_and_a_row_in_the_operations_guide() -> None:
    tested = {name.removeprefix("test_").split("_fires")[0] for name in globals() if "_fires" in name}
    assert {alert.lower() for alert in ALERTS} == tested
    guide = (RULES.parents[2] / "docs" / "operations.md").read_text()
    assert [alert for alert in ALERTS if f"`{alert}`" not in guide] == []


def test_elsbatchesrekicked_fires_when_a_sealed_batch_is_not_finished(runtime: Runtime) -> None:
    batch_id = sealed_batch(runtime)  # sealed, and no worker consumes this queue: it never finishes
    turns_true(
        ALERTS["ElsBatchesRekicked"],
        worker_metrics,
        lambda: batch_id in sweep(runtime, past_stuck(runtime)).to_complete,
    )


def test_elsbatchvanished_fires_when_a_closed_batch_loses_its_keys(
    runtime: Runtime, redis_client: redis.Redis
) -> None:
    batch_id = sealed_batch(runtime)
    redis_client.delete(runtime.coordinator.config.keys.batch(batch_id).hash)
    turns_true(ALERTS["ElsBatchVanished"], worker_metrics, lambda: sweep(runtime, past_stuck(runtime)))


def test_elsbatchesreconciled_fires_when_a_registration_never_reached_redis(runtime: Runtime) -> None:
    unreachable = runtime.settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    previous = get_current_app()
    half = dataclasses.replace(
        bootstrap.build_runtime(unreachable, bootstrap.create_app(unreachable)), quotas=None
    )
    previous.set_current()
    request = BatchRequest(
        owner="teacher-1", correlation_id="corr", batch_id=f"half-{uuid.uuid4().hex[:8]}", expected_count=2
    )
    with closing(half), pytest.raises(NotReadyError):
        register_through_intake(half, request)
    well_past = now_ms() + (runtime.settings.default_deadline_seconds + 3600) * 1000
    turns_true(ALERTS["ElsBatchesReconciled"], worker_metrics, lambda: sweep(runtime, well_past))


def test_elsoutboxbacklog_fires_when_events_pile_up(runtime: Runtime) -> None:
    threshold = int(ALERTS["ElsOutboxBacklog"].threshold)

    def pile_up() -> None:
        with unit_of_work(runtime.engine) as session:
            for number in range(threshold + 1):
                add_event(session, completion(f"pile-{number}"))

    turns_true(ALERTS["ElsOutboxBacklog"], api_metrics_for(runtime), pile_up)


def test_elseventsparked_fires_when_the_broker_refuses_events(runtime: Runtime) -> None:
    register_batch(runtime, 1)  # its batch.registered event waits in the outbox
    refused = dataclasses.replace(
        runtime,
        open_publisher=lambda: closing(
            KombuPublisher("redis://127.0.0.1:1/0", runtime.settings.events_exchange, connect_timeout=1)
        ),
    )
    turns_true(ALERTS["ElsEventsParked"], worker_metrics, lambda: relay_now(refused))


def test_elsprocessingfailed_fires_when_processing_fails_for_good(runtime: Runtime) -> None:
    batch_id = register_batch(runtime, 2)
    submission_id = submit(runtime, batch_id, "a.txt", b"some essay", enqueue=False)
    turns_true(
        ALERTS["ElsProcessingFailed"],
        worker_metrics,
        lambda: record_processing_failure(
            runtime, batch_id=batch_id, submission_id=submission_id, correlation_id="c", task_id="t-1"
        ),
    )


def test_elsprocessingcrashed_fires_when_an_upload_keeps_killing_its_worker(runtime: Runtime) -> None:
    batch_id = register_batch(runtime, 2)
    submission_id = submit(runtime, batch_id, "a.txt", b"some essay", enqueue=False)
    for _ in range(runtime.settings.max_processing_attempts):  # every earlier start died before it finished
        runtime.coordinator.start_attempt(batch_id, submission_id)
    turns_true(
        ALERTS["ElsProcessingCrashed"],
        worker_metrics,
        lambda: process_and_settle(runtime, batch_id, submission_id, "c"),
    )


def test_elswebhookdeadletters_fires_when_a_delivery_runs_out_of_attempts(runtime: Runtime) -> None:
    owner = "teacher-1"
    batch_id = register_batch(runtime, 1, owner=owner)
    configure_webhook(runtime, owner, "http://localhost:9/hook")  # refused at each attempt
    event = completion(batch_id)
    with unit_of_work(runtime.engine) as session:
        queue_delivery(
            session,
            event_id=str(event.event_id),
            event_type=event.event_type,
            batch_id=batch_id,
            payload=event.model_dump_json(),
            at=event.occurred_at,
        )
    turns_true(
        ALERTS["ElsWebhookDeadLetters"],
        worker_metrics,
        lambda: send_due_webhooks(runtime, now=datetime.now(UTC) + timedelta(minutes=1)),
    )


def test_elsoverduebatches_fires_when_nothing_expires_a_batch_past_its_deadline(runtime: Runtime) -> None:
    def let_a_deadline_pass() -> None:
        register_batch(runtime, 2, deadline_seconds=1)
        time.sleep(1.2)  # no sweep runs here, so the batch stays OPEN past its deadline

    turns_true(ALERTS["ElsOverdueBatches"], api_metrics_for(runtime), let_a_deadline_pass)


def test_elsparkedarrivals_fires_when_uploads_settle_for_an_unregistered_batch(runtime: Runtime) -> None:
    turns_true(
        ALERTS["ElsParkedArrivals"],
        api_metrics_for(runtime),
        lambda: runtime.coordinator.claim("never-registered", "s-1", "c" * 64, now_ms()),
    )


def completion(batch_id: str) -> BatchCompleted:
    return BatchCompleted.create(
        BatchCompletedData(batch_id=batch_id, completed_at=datetime.now(UTC), report={}),
        correlation_id="c",
        occurred_at=datetime.now(UTC),
    )
