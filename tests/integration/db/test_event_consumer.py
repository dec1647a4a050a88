"""A kombu consumer bound to the events exchange on real Redis receives every event of a batch, once each."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta

import pytest
import redis
from kombu import Connection, Consumer, Exchange, Queue
from kombu.message import Message
from sqlalchemy import Engine

from db.batches import record_batch_closed, write_report
from db.claims import record_excess, record_failure, record_slot_assigned
from db.essays import record_analysis, start_analysis
from db.outbox import list_events
from db.session import unit_of_work
from els.events import event_id_for, parse_event
from els.settings import Settings
from essays.lifecycle import BatchState
from services.relay import relay_outbox
from tasks.publisher import KombuPublisher
from tests.integration.db.builders import T0, batch_record, essay_text, processed_submission, register

PERSISTENT = 2


@pytest.fixture
def exchange_name(redis_url: str) -> Iterator[str]:
    """An events exchange of this test's own; its binding table is removed afterwards."""
    name = f"els.events.test-{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(redis_url)
    try:
        client.delete(f"_kombu.binding.{name}")
    finally:
        client.close()


def drain(connection: Connection, queue: Queue, expected: int, timeout: float = 20.0) -> list[Message]:
    """Consume until `expected` messages arrived or the deadline passed; acknowledges each."""
    received: list[Message] = []

    def on_message(body: object, message: Message) -> None:
        received.append(message)
        message.ack()

    deadline = time.monotonic() + timeout
    with Consumer(connection, queues=[queue], callbacks=[on_message], accept=["json"]):
        while len(received) < expected and time.monotonic() < deadline:
            try:
                connection.drain_events(timeout=0.5)
            except TimeoutError:
                continue
    return received


def test_consumer_receives_every_event_of_a_batch_with_its_stable_id(
    migrated_engine: Engine, redis_url: str, exchange_name: str
) -> None:
    settings = Settings(redis_url=redis_url, events_exchange=exchange_name)
    queue_name = f"{exchange_name}.consumer"
    with Connection(redis_url) as connection:
        exchange = Exchange(exchange_name, type="topic", durable=True)
        queue = Queue(queue_name, exchange=exchange, routing_key="#", durable=True)
        queue(connection.default_channel).declare()  # bound before anything is published
        try:
            # One batch's whole life, written only through the repositories.
            batch = batch_record(slots=3)
            register(migrated_engine, batch)
            first, second, third = batch.essay_ids
            accepted = processed_submission(migrated_engine, batch.batch_id, essay_text(1))
            rejected = processed_submission(migrated_engine, batch.batch_id, essay_text(2))
            accepted_too = processed_submission(migrated_engine, batch.batch_id, essay_text(3))
            late = processed_submission(migrated_engine, batch.batch_id, essay_text(4))
            done_at = T0 + timedelta(hours=1)
            with unit_of_work(migrated_engine) as session:
                record_slot_assigned(session, accepted, first, at=T0)
                record_failure(session, rejected, second, "CONTENT_TOO_SHORT", "4 words", at=T0)
                record_slot_assigned(session, accepted_too, third, at=T0)
                record_batch_closed(session, batch.batch_id, BatchState.SEALED, [], T0)
                record_excess(session, late, at=T0)
                for essay_id in (first, third):
                    start_analysis(session, essay_id, at=T0)
                    record_analysis(session, essay_id, {"words": 11}, at=T0)
                write_report(session, batch.batch_id, {"analysed": 2, "failed": 1}, done_at)
            with unit_of_work(migrated_engine) as session:
                stored = {event.event_id for event in list_events(session, batch.batch_id)}

            with closing(KombuPublisher(settings.celery_broker_url, settings.events_exchange)) as publisher:
                assert isinstance(publisher, KombuPublisher)
                result = relay_outbox(migrated_engine, publisher, now=done_at)
            assert (result.published, result.failed, result.parked) == (len(stored), 0, 0)

            messages = drain(connection, queue, expected=len(stored))
        finally:
            queue(connection.default_channel).delete()

    expected_ids = {
        str(event_id_for("batch.registered", batch.batch_id)),
        str(event_id_for("essay.slot_assigned", f"{batch.batch_id}/{first}/{accepted}")),
        str(event_id_for("essay.validation_failed", rejected)),
        str(event_id_for("essay.slot_assigned", f"{batch.batch_id}/{third}/{accepted_too}")),
        str(event_id_for("batch.sealed", batch.batch_id)),
        str(event_id_for("essay.excess_content", late)),
        str(event_id_for("batch.completed", batch.batch_id)),
    }
    assert stored == expected_ids
    bodies = [message.body for message in messages]
    events = [parse_event(body) for body in bodies if body is not None]
    assert sorted(str(event.event_id) for event in events) == sorted(expected_ids)
    for message, event in zip(messages, events, strict=True):
        assert message.properties["message_id"] == str(event.event_id)
        # The stubs type properties as strings; the Redis transport keeps the integer.
        assert str(message.properties["delivery_mode"]) == str(PERSISTENT)
        assert message.delivery_info["routing_key"] == event.event_type
        assert message.headers == {"event_id": str(event.event_id), "event_type": event.event_type}
        assert message.content_type == "application/json"
        assert event.correlation_id
        assert event.data.batch_id == batch.batch_id
