"""The outbox relay publishes each event once, retries failures with backoff and parks the hopeless."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from db.outbox import add_event, count_unpublished, load_event, requeue_parked
from db.session import unit_of_work
from els.errors import PublishError
from els.events import BatchSealed, BatchSealedData, parse_event
from services.backoff import backoff
from services.ports import OutgoingEvent
from services.relay import LEASE, RelayResult, relay_outbox
from tests.integration.db.builders import T0, unique
from tests.integration.db.publishers import FailingPublisher, RecordingPublisher


def queue_sealed_events(engine: Engine, how_many: int) -> list[str]:
    """Write `how_many` BatchSealed events straight into the outbox; returns their ids."""
    ids = []
    with unit_of_work(engine) as session:
        for n in range(how_many):
            data = BatchSealedData(batch_id=unique("batch"), expected_count=n + 1, closed_at=T0)
            event = BatchSealed.create(data, correlation_id=unique("corr"), occurred_at=T0)
            assert add_event(session, event)
            ids.append(str(event.event_id))
    return ids


def test_relay_publishes_every_due_event_once_with_its_envelope(migrated_engine: Engine) -> None:
    ids = queue_sealed_events(migrated_engine, 5)
    publisher = RecordingPublisher()
    assert relay_outbox(migrated_engine, publisher, limit=3, now=T0) == RelayResult(3, 0, 0)
    assert relay_outbox(migrated_engine, publisher, limit=3, now=T0) == RelayResult(2, 0, 0)
    assert relay_outbox(migrated_engine, publisher, limit=3, now=T0) == RelayResult(0, 0, 0)
    assert sorted(event.event_id for event in publisher.published) == sorted(ids)
    for event in publisher.published:
        parsed = parse_event(event.body)
        assert (str(parsed.event_id), parsed.event_type, event.routing_key) == (
            event.event_id,
            "batch.sealed",
            "batch.sealed",
        )
    with unit_of_work(migrated_engine) as session:
        assert count_unpublished(session) == 0


def test_events_not_yet_due_wait(migrated_engine: Engine) -> None:
    queue_sealed_events(migrated_engine, 2)
    publisher = RecordingPublisher()
    assert relay_outbox(migrated_engine, publisher, now=T0 - timedelta(seconds=1)) == RelayResult(0, 0, 0)
    assert publisher.published == []


def test_failed_publishes_back_off_then_park_then_requeue(migrated_engine: Engine) -> None:
    (event_id,) = queue_sealed_events(migrated_engine, 1)
    broker_down = FailingPublisher()

    def relay(at_seconds: float) -> RelayResult:
        at = T0 + timedelta(seconds=at_seconds)
        return relay_outbox(migrated_engine, broker_down, max_attempts=3, now=at, backoff_seconds=2.0)

    assert relay(0) == RelayResult(0, 1, 0)  # attempt 1 fails: next try at +2 s
    assert relay(1.9) == RelayResult(0, 0, 0)
    assert relay(2) == RelayResult(0, 1, 0)  # attempt 2 fails: next try at +2 + 4 s
    assert relay(5.9) == RelayResult(0, 0, 0)
    assert relay(6) == RelayResult(0, 0, 1)  # attempt 3 is the last: parked
    assert relay(10_000) == RelayResult(0, 0, 0)
    assert broker_down.calls == 3
    with unit_of_work(migrated_engine) as session:
        row = load_event(session, event_id)
    assert row is not None
    assert (row.attempts, row.parked_at, row.published_at) == (3, T0 + timedelta(seconds=6), None)
    assert row.last_error is not None and "broker down" in row.last_error

    later = T0 + timedelta(hours=1)
    with unit_of_work(migrated_engine) as session:
        assert requeue_parked(session, later) == 1
    publisher = RecordingPublisher()
    assert relay_outbox(migrated_engine, publisher, now=later) == RelayResult(1, 0, 0)
    assert [event.event_id for event in publisher.published] == [event_id]


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff(n, 2.0, 60.0).total_seconds() for n in (1, 2, 3, 4, 5, 6, 10_000)] == [
        2,
        4,
        8,
        16,
        32,
        60,
        60,
    ]


def test_two_relays_at_once_never_publish_an_event_twice(postgres_engine: Engine) -> None:
    ids = queue_sealed_events(postgres_engine, 60)
    publisher = RecordingPublisher()
    # Each relay's first publish waits for the other's: both hold claimed rows at the same moment,
    # so without SKIP LOCKED they would have claimed the same rows (or blocked and broken the barrier).
    both_claimed = threading.Barrier(2, timeout=20)
    errors: list[BaseException] = []

    class MeetingPublisher:
        def __init__(self) -> None:
            self.met = False

        def publish(self, event: OutgoingEvent) -> None:
            if not self.met:
                self.met = True
                both_claimed.wait()
            publisher.publish(event)

    def drain() -> None:
        own = MeetingPublisher()
        try:
            while relay_outbox(postgres_engine, own, limit=7, now=T0).published:
                pass
        except BaseException as error:
            errors.append(error)
            raise

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    published = [event.event_id for event in publisher.published]
    assert len(published) == len(ids)
    assert sorted(published) == sorted(ids)
    assert {json.loads(event.body)["event_id"] for event in publisher.published} == set(ids)


class CrashingPublisher:
    """A relay process that dies while publishing: anything but a PublishError escapes the relay."""

    def publish(self, event: OutgoingEvent) -> None:
        raise SystemExit(f"killed while publishing {event.event_id}")


def test_a_relay_that_dies_mid_publish_leaves_its_events_leased_then_due_again(
    migrated_engine: Engine,
) -> None:
    ids = queue_sealed_events(migrated_engine, 3)
    with pytest.raises(SystemExit):
        relay_outbox(migrated_engine, CrashingPublisher(), now=T0)
    publisher = RecordingPublisher()
    # Leased to the dead relay: nobody publishes them twice at once.
    assert relay_outbox(migrated_engine, publisher, now=T0 + LEASE - timedelta(seconds=1)) == RelayResult(
        0, 0, 0
    )
    # Once the lease ends, the next run publishes every one of them, under the same ids.
    assert relay_outbox(migrated_engine, publisher, now=T0 + LEASE) == RelayResult(3, 0, 0)
    assert sorted(event.event_id for event in publisher.published) == sorted(ids)


def test_no_write_lock_is_held_while_events_are_published(sqlite_engine: Engine) -> None:
    queue_sealed_events(sqlite_engine, 2)
    written: list[str] = []

    class WritingMeanwhile:
        """While each event is published, another connection writes to the database (a settling worker)."""

        def publish(self, event: OutgoingEvent) -> None:
            def settle() -> None:
                written.extend(queue_sealed_events(sqlite_engine, 1))

            writer = threading.Thread(target=settle)
            writer.start()
            writer.join(timeout=10)
            assert not writer.is_alive(), "a write waited for the relay's lock"

    assert relay_outbox(sqlite_engine, WritingMeanwhile(), now=T0) == RelayResult(2, 0, 0)
    assert len(written) == 2


def test_a_relay_that_outlived_its_lease_never_overwrites_the_relay_after_it(migrated_engine: Engine) -> None:
    (event_id,) = queue_sealed_events(migrated_engine, 1)
    heir_at = T0 + LEASE

    class SlowBroker:
        """The first relay's publish hangs past its lease; meanwhile a second relay claims the event,
        fails, and schedules the next try. Then the first relay's publish fails too."""

        def publish(self, event: OutgoingEvent) -> None:
            heir = relay_outbox(migrated_engine, FailingPublisher(), now=heir_at, backoff_seconds=2.0)
            assert heir == RelayResult(0, 1, 0)
            raise PublishError(f"timed out publishing {event.event_id}")

    assert relay_outbox(migrated_engine, SlowBroker(), now=T0) == RelayResult(0, 0, 0)
    with unit_of_work(migrated_engine) as session:
        row = load_event(session, event_id)
    assert row is not None
    # The heir's record stands: its attempt, its next try (attempt 2 waits 4 s), its error.
    assert (row.attempts, row.next_attempt_at) == (2, heir_at + timedelta(seconds=4))
    assert row.last_error is not None and "broker down" in row.last_error


def test_a_stale_relay_whose_publish_went_out_still_marks_the_event_published(
    migrated_engine: Engine,
) -> None:
    (event_id,) = queue_sealed_events(migrated_engine, 1)

    class SlowButDelivered:
        def publish(self, event: OutgoingEvent) -> None:
            relay_outbox(migrated_engine, FailingPublisher(), now=T0 + LEASE)

    assert relay_outbox(migrated_engine, SlowButDelivered(), now=T0) == RelayResult(1, 0, 0)
    with unit_of_work(migrated_engine) as session:
        row = load_event(session, event_id)
    assert row is not None and row.published_at == T0


def test_a_pass_stops_at_its_first_failed_publish_and_hands_the_rest_back(migrated_engine: Engine) -> None:
    first, *rest = queue_sealed_events(migrated_engine, 3)
    broker_down = FailingPublisher()
    assert relay_outbox(migrated_engine, broker_down, now=T0) == RelayResult(0, 1, 0)
    assert broker_down.calls == 1  # not three timeouts in a row
    with unit_of_work(migrated_engine) as session:
        rows = {event_id: load_event(session, event_id) for event_id in (first, *rest)}
    attempted = [event_id for event_id, row in rows.items() if row is not None and row.attempts == 1]
    assert len(attempted) == 1
    for event_id, row in rows.items():
        assert row is not None
        if event_id not in attempted:  # untouched: no attempt counted, due as before
            assert (row.attempts, row.next_attempt_at, row.last_error) == (0, T0, None)
    # The next pass takes the handed-back events first: they are due before the failed one's retry.
    publisher = RecordingPublisher()
    assert relay_outbox(migrated_engine, publisher, now=T0) == RelayResult(2, 0, 0)
    assert {event.event_id for event in publisher.published} == set(rows) - set(attempted)


def test_an_unexpected_error_is_recorded_against_its_event_then_raised(migrated_engine: Engine) -> None:
    ids = queue_sealed_events(migrated_engine, 2)

    class Buggy:
        def publish(self, event: OutgoingEvent) -> None:
            raise ValueError(f"cannot encode {event.event_id}")

    with pytest.raises(ValueError, match="cannot encode"):
        relay_outbox(migrated_engine, Buggy(), now=T0, backoff_seconds=2.0)
    with unit_of_work(migrated_engine) as session:
        rows = [load_event(session, event_id) for event_id in ids]
    failed = [row for row in rows if row is not None and row.attempts == 1]
    assert len(failed) == 1
    assert failed[0].last_error is not None and failed[0].last_error.startswith("ValueError: cannot encode")
    assert failed[0].next_attempt_at == T0 + timedelta(seconds=2)  # not leased until the lease ends
    # Nothing is lost: the other is due now, the failed one after its backoff.
    publisher = RecordingPublisher()
    assert relay_outbox(migrated_engine, publisher, now=T0 + timedelta(seconds=2)) == RelayResult(2, 0, 0)
