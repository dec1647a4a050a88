"""Webhook deliveries on real PostgreSQL: queued once per event, refused targets and redirects are
failed attempts, a delivery out of attempts is dead until retried, and the API never shows a secret twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from db.session import unit_of_work
from els import metrics
from els.errors import NotFoundError
from els.events import BatchCompleted, BatchCompletedData
from services.runtime import Runtime
from services.webhook_delivery import send_due_webhooks
from services.webhooks import (
    DeliveryState,
    configure_webhook,
    list_deliveries,
    owner_webhook,
    queue_delivery,
    retry_delivery,
)
from tests.support.batches import register_batch

pytestmark = [pytest.mark.webhooks, pytest.mark.redis, pytest.mark.postgres]


def completed(runtime: Runtime, batch_id: str) -> tuple[str, bool, bool]:
    """Queue the batch's completion event for its webhook twice, as a relay that published it twice would."""
    event = BatchCompleted.create(
        BatchCompletedData(batch_id=batch_id, completed_at=datetime.now(UTC), report={}),
        correlation_id="c",
        occurred_at=datetime.now(UTC),
    )
    results = []
    for _ in range(2):
        with unit_of_work(runtime.engine) as session:
            results.append(
                queue_delivery(
                    session,
                    event_id=str(event.event_id),
                    event_type=event.event_type,
                    batch_id=batch_id,
                    payload=event.model_dump_json(),
                    at=event.occurred_at,
                )
            )
    return str(event.event_id), results[0], results[1]


@pytest.fixture
def redirecting_receiver() -> Iterator[tuple[str, list[str]]]:
    """A receiver on 127.0.0.1 that answers every POST with a redirect; returns its URL and the paths hit."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            hits.append(self.path)
            self.send_response(307)
            self.send_header("location", "/elsewhere")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", hits
    server.shutdown()
    server.server_close()


def test_a_refused_target_fails_each_attempt_until_the_delivery_is_dead_then_retry_revives_it(
    runtime: Runtime,
) -> None:
    runtime = replace(runtime, settings=runtime.settings.model_copy(update={"webhook_max_attempts": 2}))
    owner = "teacher-refused"
    batch_id = register_batch(runtime, 1, owner=owner)
    configured = configure_webhook(runtime, owner, "http://localhost:9/hook")  # a name: checked per attempt
    assert configured.secret is not None and owner_webhook(runtime, owner).secret is None
    event_id, first, second = completed(runtime, batch_id)
    assert (first, second) == (True, False)  # one delivery per event, however often it is published

    dead_before = metrics.WEBHOOK_DEAD_LETTERS._value.get()
    now = datetime.now(UTC)
    # The database is shared: each run may take other tests' deliveries too, so only this owner's count.
    send_due_webhooks(runtime, now=now)
    assert [(d.state, d.attempts) for d in list_deliveries(runtime, owner)] == [(DeliveryState.PENDING, 1)]
    send_due_webhooks(runtime, now=now)  # not due again before its backoff
    assert [d.attempts for d in list_deliveries(runtime, owner)] == [1]
    send_due_webhooks(runtime, now=now + timedelta(hours=2))
    [delivery] = list_deliveries(runtime, owner)
    assert (delivery.event_id, delivery.state, delivery.attempts) == (event_id, DeliveryState.DEAD, 2)
    assert delivery.last_error is not None and "may not reach localhost" in delivery.last_error
    assert metrics.WEBHOOK_DEAD_LETTERS._value.get() >= dead_before + 1  # others of the shared DB may die too

    with pytest.raises(NotFoundError):
        retry_delivery(runtime, event_id, owner="someone-else")
    retry_delivery(runtime, event_id, owner)
    [revived] = list_deliveries(runtime, owner)
    assert (revived.state, revived.attempts) == (DeliveryState.PENDING, 0)
    with pytest.raises(NotFoundError):
        retry_delivery(runtime, event_id, owner)  # only a dead delivery is retried


def test_a_redirect_is_a_failed_attempt_and_is_not_followed(
    runtime: Runtime, redirecting_receiver: tuple[str, list[str]]
) -> None:
    url, hits = redirecting_receiver
    runtime = replace(
        runtime, settings=runtime.settings.model_copy(update={"webhook_allow_networks": "127.0.0.1/32"})
    )
    owner = "teacher-redirected"
    batch_id = register_batch(runtime, 1, owner=owner)
    configure_webhook(runtime, owner, url)
    completed(runtime, batch_id)
    send_due_webhooks(runtime)
    assert hits == ["/hook"]  # the redirect's target was never asked
    [delivery] = list_deliveries(runtime, owner)
    assert (delivery.state, delivery.attempts, delivery.last_status) == (DeliveryState.PENDING, 1, 307)
