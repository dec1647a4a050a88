"""The outbox relay: publishes due events and marks them, so each is published once per success.

Asked for after commits (debounced in Redis, at most one request a second) and run by beat as a backstop;
one run keeps draining while a backlog remains, for at most `ELS_OUTBOX_DRAIN_SECONDS`.

A pass has three steps, and no transaction is open while it publishes:
1. claim: one short unit takes up to `limit` due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the write
   lock on SQLite), counts the attempt and leases them (`next_attempt_at` moves `lease` ahead), so no
   other relay takes them while the lease lasts;
2. publish the claimed events in order, stopping at the first that fails: with the broker down, every
   later publish would wait out the same timeout;
3. record: one short unit marks the published (and queues their webhooks), reschedules or parks the
   failed one, and hands back the untried ones as they were. Each write is conditional on the row
   still being this pass's claim (its attempt count), so a relay that outlived its lease never
   overwrites the relay that claimed the rows after it.
Publishing is at least once: a relay that dies between 1 and 3 leaves its rows leased, and once the
lease ends the next run publishes them again under the same event ids. A run's lease is the task's
hard time limit, so no live relay outlives the lease of its pass.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, select, update
from sqlalchemy.orm import Session

from db.clock import stamp
from db.models import OutboxEvent
from db.session import unit_of_work
from db.writes import affected_rows
from els import metrics
from els.errors import PublishError
from els.settings import Settings
from services.backoff import backoff
from services.ports import OutgoingEvent, Publisher
from services.runtime import Runtime
from services.webhooks import queue_delivery

log = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 2000
LEASE = timedelta(minutes=5)


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
class _Claim:
    """A claimed event: its batch, the attempt this pass counted, when it was due before the lease, and
    what publishing it did (`tried` False: the pass stopped before it; `error` None: published)."""

    event: OutgoingEvent
    batch_id: str
    attempts: int
    was_due_at: datetime
    tried: bool = False
    error: Exception | None = None


@dataclass(frozen=True)
class _Retry:
    max_attempts: int
    backoff_seconds: float
    max_backoff_seconds: float


def lease_for(settings: Settings) -> timedelta:
    """The lease of a relay run's claims: its task's hard time limit, after which no relay is alive."""
    return max(LEASE, timedelta(seconds=settings.task_time_limit))


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
    """Publish up to `limit` due events, oldest due first; a failure is retried later, then parked.

    An error other than `PublishError` (a bug, a soft time limit) is recorded against its event, and
    raised once the pass is recorded."""
    claims = _publish(publisher, _claim_due(engine, stamp(now), limit, lease))
    retry = _Retry(max_attempts, backoff_seconds, max_backoff_seconds)
    result = _record(engine, claims, stamp(now), retry)
    for claim in claims:
        if claim.error is not None and not isinstance(claim.error, PublishError):
            raise claim.error
    return result


def _publish(publisher: Publisher, claims: Sequence[_Claim]) -> list[_Claim]:
    done: list[_Claim] = []
    for claim in claims:
        try:
            publisher.publish(claim.event)
        except Exception as error:  # noqa: BLE001 - recorded; raised after the record unless a PublishError
            done.append(replace(claim, tried=True, error=error))
            break
        done.append(replace(claim, tried=True))
    return done + list(claims[len(done) :])


def _claim_due(engine: Engine, at: datetime, limit: int, lease: timedelta) -> list[_Claim]:
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
        claims = []
        for row in rows:
            claims.append(_Claim(_outgoing(row), row.aggregate_id, row.attempts + 1, row.next_attempt_at))
            row.attempts += 1
            row.next_attempt_at = at + lease
    return claims


def _record(engine: Engine, claims: Sequence[_Claim], at: datetime, retry: _Retry) -> RelayResult:
    if not claims:
        return RelayResult(0, 0, 0)
    result = RelayResult(0, 0, 0)
    published: list[str] = []
    with unit_of_work(engine) as session:
        for claim in claims:
            if not claim.tried:
                _hand_back(session, claim)
            elif claim.error is not None:
                result += _mark_failed(session, claim, claim.error, at, retry)
            elif marked := _mark_published(session, claim, at):
                result += marked
                published.append(claim.event.event_type)
    for event_type in published:  # counted once committed
        metrics.EVENTS_PUBLISHED.labels(event_type=event_type).inc()
    return result


def _still_ours(claim: _Claim) -> ColumnElement[bool]:
    """The row is unpublished, not parked, and still holds the attempt this pass counted."""
    return (
        (OutboxEvent.event_id == claim.event.event_id)
        & OutboxEvent.published_at.is_(None)
        & OutboxEvent.parked_at.is_(None)
        & (OutboxEvent.attempts == claim.attempts)
    )


def _hand_back(session: Session, claim: _Claim) -> None:
    """Undo the claim of an event the pass did not try: its attempt uncounted, due as it was."""
    session.execute(
        update(OutboxEvent)
        .where(_still_ours(claim))
        .values(attempts=claim.attempts - 1, next_attempt_at=claim.was_due_at)
        .execution_options(synchronize_session=False)
    )


def _mark_published(session: Session, claim: _Claim, at: datetime) -> RelayResult | None:
    # Whoever holds the row now, the event is out: the first relay to record it marks it, once.
    marked = affected_rows(
        session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.event_id == claim.event.event_id, OutboxEvent.published_at.is_(None))
            .values(published_at=at, parked_at=None, last_error=None)
            .execution_options(synchronize_session=False)
        )
    )
    if not marked:
        return None  # purged meanwhile, or recorded by a relay that took it after the lease
    # Marked published and queued for its webhook in one transaction: a relay that dies before
    # committing republishes the event and queues it again, under the same id, so once.
    queued = queue_delivery(
        session,
        event_id=claim.event.event_id,
        event_type=claim.event.event_type,
        batch_id=claim.batch_id,
        payload=claim.event.body,
        at=at,
    )
    return RelayResult(1, 0, 0, webhooks=int(queued))


def _mark_failed(
    session: Session, claim: _Claim, error: Exception, at: datetime, retry: _Retry
) -> RelayResult:
    last = claim.attempts >= retry.max_attempts
    due = at + backoff(claim.attempts, retry.backoff_seconds, retry.max_backoff_seconds)
    changes = {"parked_at": at} if last else {"next_attempt_at": due}
    marked = affected_rows(
        session.execute(
            update(OutboxEvent)
            .where(_still_ours(claim))
            .values(last_error=f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH], **changes)
            .execution_options(synchronize_session=False)
        )
    )
    if not marked:
        return RelayResult(0, 0, 0)  # another relay claimed it after this pass's lease: its record wins
    event_id = claim.event.event_id
    if last:
        log.error("event %s parked after %d attempts: %s", event_id, claim.attempts, error)
        return RelayResult(0, 0, 1)
    log.warning("event %s not published (attempt %d): %s", event_id, claim.attempts, error)
    return RelayResult(0, 1, 0)


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
                lease=lease_for(settings),
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
