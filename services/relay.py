"""The outbox relay: publishes due events and marks them, so each is published once per success.

Asked for after commits (debounced in Redis, at most one request a second) and run by beat as a backstop.

Rows are claimed with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so relays running side by side take
disjoint rows; on SQLite the relay's unit of work holds the write lock, so relays take turns.
Publishing is at least once: a relay that dies after publishing and before committing leaves its
rows due, and the next run publishes them again under the same event ids.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

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


@dataclass(frozen=True)
class RelayResult:
    """What one relay run did: published, failed and rescheduled, failed for the last time and parked, and
    how many webhook deliveries the published events queued."""

    published: int
    failed: int
    parked: int
    webhooks: int = 0


def relay_outbox(
    engine: Engine,
    publisher: Publisher,
    *,
    limit: int = 100,
    max_attempts: int = 10,
    now: datetime | None = None,
    backoff_seconds: float = 2.0,
    max_backoff_seconds: float = 3600.0,
) -> RelayResult:
    """Publish up to `limit` due events, oldest due first; a failure is retried later, then parked."""
    at = stamp(now)
    published = failed = parked = webhooks = 0
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
        for row in rows:
            row.attempts += 1
            try:
                outgoing = _outgoing(row)
                publisher.publish(outgoing)
            except PublishError as error:
                row.last_error = str(error)[:MAX_ERROR_LENGTH]
                if row.attempts >= max_attempts:
                    row.parked_at = at
                    parked += 1
                    log.error("event %s parked after %d attempts: %s", row.event_id, row.attempts, error)
                else:
                    row.next_attempt_at = at + backoff(row.attempts, backoff_seconds, max_backoff_seconds)
                    failed += 1
                    log.warning("event %s not published (attempt %d): %s", row.event_id, row.attempts, error)
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
                payload=outgoing.body,
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
    """Publish what is due now through a publisher opened for this run."""
    settings = runtime.settings
    with runtime.open_publisher() as publisher:
        result = relay_outbox(
            runtime.engine,
            publisher,
            limit=settings.outbox_batch_size,
            max_attempts=settings.outbox_max_attempts,
        )
    metrics.EVENTS_PARKED.inc(result.parked)
    if result.webhooks:
        runtime.dispatcher.send_webhooks()
    return result


def request_relay(runtime: Runtime) -> None:
    """Ask for a relay soon; at most one request a second is dispatched, beat covers the rest."""
    if runtime.coordinator.request_once("relay-requested", ttl_ms=1000):
        runtime.dispatcher.relay()
