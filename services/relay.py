"""The outbox relay: publishes due events and marks them, so each is published once per success.

Asked for after commits (debounced in Redis, at most one request a second) and run by beat as a backstop;
one run keeps draining while a backlog remains, for at most `ELS_OUTBOX_DRAIN_SECONDS`.

A pass has three steps, and no transaction is open while it publishes:
1. claim: one short unit takes up to `limit` due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the write
   lock on SQLite), counts the attempt and leases them (`next_attempt_at` moves `lease` ahead), so
   relays running side by side take disjoint rows;
2. publish each claimed event to the broker;
3. record: one short unit marks the published (and queues their webhooks), reschedules or parks the
   failed.
Publishing is at least once: a relay that dies between 1 and 3 leaves its rows leased, and once the
lease ends the next run publishes them again under the same event ids.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from db.clock import stamp
from db.models import OutboxEvent
from db.session import unit_of_work
from els import metrics
from els.errors import PublishError
from services.backoff import backoff
from services.ports import OutgoingEvent, Publisher
from services.runtime import Runtime
from services.webhooks import queue_delivery

log = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 2000
LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class RelayResult:
    """What one relay run did: published, failed and rescheduled, failed for the last time and parked, and
    how many webhook deliveries the published events queued."""

    published: int
    failed: int
    parked: int
    webhooks: int = 0

    def __add__(self, other: RelayResult) -> RelayResult:
        return RelayResult(
            self.published + other.published,
            self.failed + other.failed,
            self.parked + other.parked,
            self.webhooks + other.webhooks,
        )


@dataclass(frozen=True)
class _Attempt:
    """A claimed event, its attempt number, and the error publishing it raised (None: published)."""

    event: OutgoingEvent
    attempts: int
    error: PublishError | None = None


def relay_outbox(
    engine: Engine,
    publisher: Publisher,
    *,
    limit: int = 100,
    max_attempts: int = 10,
    now: datetime | None = None,
    backoff_seconds: float = 2.0,
    max_backoff_seconds: float = 3600.0,
    lease: timedelta = LEASE,
) -> RelayResult:
    """Publish up to `limit` due events, oldest due first; a failure is retried later, then parked."""
    at = stamp(now)
    attempts = [_publish(publisher, claimed) for claimed in _claim_due(engine, at, limit, lease)]
    retry = _Retry(max_attempts, backoff_seconds, max_backoff_seconds)
    return _record(engine, attempts, at, retry)


@dataclass(frozen=True)
class _Retry:
    max_attempts: int
    backoff_seconds: float
    max_backoff_seconds: float


def _publish(publisher: Publisher, claimed: _Attempt) -> _Attempt:
    try:
        publisher.publish(claimed.event)
    except PublishError as error:
        return _Attempt(claimed.event, claimed.attempts, error)
    return claimed


def _claim_due(engine: Engine, at: datetime, limit: int, lease: timedelta) -> list[_Attempt]:
    with unit_of_work(engine) as session:
        rows = session.scalars(
            select(OutboxEvent)
            .where(
                OutboxEvent.published_at.is_(None),
                OutboxEvent.parked_at.is_(None),
                OutboxEvent.next_attempt_at <= at,
            )
            .order_by(OutboxEvent.next_attempt_at, OutboxEvent.created_at, OutboxEvent.event_id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        claimed = []
        for row in rows:
            row.attempts += 1
            row.next_attempt_at = at + lease
            claimed.append(_Attempt(_outgoing(row), row.attempts))
    return claimed


def _record(engine: Engine, attempts: Sequence[_Attempt], at: datetime, retry: _Retry) -> RelayResult:
    published = failed = parked = webhooks = 0
    if not attempts:
        return RelayResult(0, 0, 0)
    with unit_of_work(engine) as session:
        for attempt in attempts:
            row = session.get(OutboxEvent, attempt.event.event_id)
            if row is None or row.published_at is not None:
                continue  # purged meanwhile, or published by a relay that took it after the lease
            error = attempt.error
            if error is not None:
                row.last_error = str(error)[:MAX_ERROR_LENGTH]
                if attempt.attempts >= retry.max_attempts:
                    row.parked_at = at
                    parked += 1
                    log.error("event %s parked after %d attempts: %s", row.event_id, attempt.attempts, error)
                else:
                    wait = backoff(attempt.attempts, retry.backoff_seconds, retry.max_backoff_seconds)
                    row.next_attempt_at = at + wait
                    failed += 1
                    log.warning(
                        "event %s not published (attempt %d): %s", row.event_id, attempt.attempts, error
                    )
                continue
            row.published_at = at
            row.last_error = None
            published += 1
            # Marked published and queued for its webhook in one transaction: a relay that dies before
            # committing republishes the event and queues it again, under the same id, so once.
            webhooks += queue_delivery(
                session,
                event_id=row.event_id,
                event_type=row.event_type,
                batch_id=row.aggregate_id,
                payload=attempt.event.body,
                at=at,
            )
            metrics.EVENTS_PUBLISHED.labels(event_type=row.event_type).inc()
    return RelayResult(published=published, failed=failed, parked=parked, webhooks=webhooks)


def _outgoing(row: OutboxEvent) -> OutgoingEvent:
    return OutgoingEvent(
        event_id=row.event_id,
        event_type=row.event_type,
        routing_key=row.routing_key,
        body=json.dumps(row.payload, separators=(",", ":"), ensure_ascii=False),
    )


def relay_now(runtime: Runtime) -> RelayResult:
    """Publish what is due through one publisher, pass after pass while full passes show a backlog,
    for at most `ELS_OUTBOX_DRAIN_SECONDS`; beat's next run takes what is left."""
    settings = runtime.settings
    give_up = time.monotonic() + settings.outbox_drain_seconds
    total = RelayResult(0, 0, 0)
    with runtime.open_publisher() as publisher:
        while True:
            result = relay_outbox(
                runtime.engine,
                publisher,
                limit=settings.outbox_batch_size,
                max_attempts=settings.outbox_max_attempts,
            )
            total += result
            taken = result.published + result.failed + result.parked
            if taken < settings.outbox_batch_size or result.failed or time.monotonic() >= give_up:
                break
    metrics.EVENTS_PARKED.inc(total.parked)
    if total.webhooks:
        runtime.dispatcher.send_webhooks()
    return total


def request_relay(runtime: Runtime) -> None:
    """Ask for a relay soon; at most one request a second is dispatched, beat covers the rest."""
    if runtime.coordinator.request_once("relay-requested", ttl_ms=1000):
        runtime.dispatcher.relay()
