"""The transactional outbox: events written in the same transaction as the change they report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db.models import OutboxEvent
from db.writes import affected_rows, insert_ignore
from els.events import Event, EventData
from els.jsontypes import JsonObject

D = TypeVar("D", bound=EventData)


@dataclass(frozen=True)
class OutboxRecord:
    """One outbox row as read back (for operators and tests)."""

    event_id: str
    event_type: str
    routing_key: str
    aggregate_id: str
    payload: JsonObject
    created_at: datetime
    attempts: int
    next_attempt_at: datetime
    published_at: datetime | None
    parked_at: datetime | None
    last_error: str | None


def add_event(session: Session, event: Event[D]) -> bool:
    """Queue `event` in the caller's transaction; False when an event with its id is already there."""
    row = {
        "event_id": str(event.event_id),
        "event_type": event.event_type,
        "routing_key": event.routing_key,
        "aggregate_id": event.data.batch_id,
        "payload": event.to_json(),
        "created_at": event.occurred_at,
        "attempts": 0,
        "next_attempt_at": event.occurred_at,
    }
    with session.no_autoflush:  # the row refers to nothing pending: the change it reports flushes once
        return insert_ignore(session, OutboxEvent, [row]) == 1


def load_event(session: Session, event_id: str) -> OutboxRecord | None:
    """One outbox row by event id, or None."""
    row = session.get(OutboxEvent, event_id)
    return None if row is None else _record(row)


def list_events(session: Session, aggregate_id: str) -> list[OutboxRecord]:
    """Every outbox row about one batch, oldest first."""
    rows = session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.aggregate_id == aggregate_id)
        .order_by(OutboxEvent.created_at, OutboxEvent.event_id)
    )
    return [_record(row) for row in rows]


def count_unpublished(session: Session) -> int:
    """How many events wait to be published (parked ones excluded)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.published_at.is_(None), OutboxEvent.parked_at.is_(None))
        )
        or 0
    )


def requeue_parked(session: Session, now: datetime) -> int:
    """Give every parked event a fresh set of attempts, due at `now`; returns how many."""
    return affected_rows(
        session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.parked_at.is_not(None), OutboxEvent.published_at.is_(None))
            .values(parked_at=None, attempts=0, next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
    )


def _record(row: OutboxEvent) -> OutboxRecord:
    return OutboxRecord(
        event_id=row.event_id,
        event_type=row.event_type,
        routing_key=row.routing_key,
        aggregate_id=row.aggregate_id,
        payload=row.payload,
        created_at=row.created_at,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        published_at=row.published_at,
        parked_at=row.parked_at,
        last_error=row.last_error,
    )
