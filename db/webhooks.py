"""Webhook persistence: endpoints per owner and per batch, and the deliveries to them.

A delivery is keyed by its event's id, so one event makes at most one delivery however often the relay
publishes it. A sender takes a due delivery by moving `next_attempt_at` past its attempt (its lease):
a sender that dies mid-attempt leaves the delivery due again once the lease is over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.models import Batch, BatchWebhook, WebhookDelivery, WebhookEndpoint
from db.writes import affected_rows, insert_ignore


class DeliveryState(StrEnum):
    """Where a delivery is: still trying, accepted by the receiver, or out of attempts."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


@dataclass(frozen=True)
class WebhookTarget:
    """Where one owner's (or one batch's) events go, and the secret that signs them."""

    owner: str
    url: str
    secret: str
    created_at: datetime


@dataclass(frozen=True)
class DeliveryRecord:
    """One delivery as stored."""

    event_id: str
    event_type: str
    owner: str
    batch_id: str
    url: str
    secret: str
    payload: str
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None
    last_status: int | None
    last_error: str | None


def set_endpoint(session: Session, owner: str, url: str, secret: str, at: datetime) -> None:
    """Make `url` and `secret` the owner's webhook, replacing any before."""
    row = session.get(WebhookEndpoint, owner)
    if row is None:
        session.add(WebhookEndpoint(owner=owner, url=url, secret=secret, created_at=at))
        return
    row.url, row.secret, row.created_at = url, secret, at


def load_endpoint(session: Session, owner: str) -> WebhookTarget | None:
    """The owner's webhook, or None."""
    row = session.get(WebhookEndpoint, owner)
    return None if row is None else WebhookTarget(row.owner, row.url, row.secret, row.created_at)


def delete_endpoint(session: Session, owner: str) -> bool:
    """Remove the owner's webhook; False when there was none. Deliveries already made still go out."""
    row = session.get(WebhookEndpoint, owner)
    if row is None:
        return False
    session.delete(row)
    return True


def add_batch_webhook(session: Session, batch_id: str, url: str, secret: str, at: datetime) -> bool:
    """Give a batch its own webhook (at registration); False when it already has one."""
    row = {"batch_id": batch_id, "url": url, "secret": secret, "created_at": at}
    return insert_ignore(session, BatchWebhook, [row]) == 1


def target_for_batch(session: Session, batch_id: str) -> WebhookTarget | None:
    """The webhook a batch's events go to: its own, else its owner's; None when neither exists."""
    batch = session.get(Batch, batch_id)
    if batch is None:
        return None
    own = session.get(BatchWebhook, batch_id)
    if own is not None:
        return WebhookTarget(batch.owner, own.url, own.secret, own.created_at)
    return load_endpoint(session, batch.owner)


def add_delivery(
    session: Session,
    *,
    event_id: str,
    event_type: str,
    batch_id: str,
    target: WebhookTarget,
    payload: str,
    at: datetime,
) -> bool:
    """Queue one event for its webhook, due at once; False when that event already has a delivery."""
    row = {
        "event_id": event_id,
        "event_type": event_type,
        "owner": target.owner,
        "batch_id": batch_id,
        "url": target.url,
        "secret": target.secret,
        "payload": payload,
        "state": DeliveryState.PENDING.value,
        "attempts": 0,
        "next_attempt_at": at,
        "created_at": at,
        "updated_at": at,
    }
    return insert_ignore(session, WebhookDelivery, [row]) == 1


def take_due_delivery(session: Session, at: datetime, lease_until: datetime) -> DeliveryRecord | None:
    """The oldest due pending delivery, its attempt counted and leased until `lease_until`; or None.

    Rows another sender holds are skipped (PostgreSQL), so senders side by side take different ones.
    """
    row = session.scalars(
        select(WebhookDelivery)
        .where(
            WebhookDelivery.state == DeliveryState.PENDING.value,
            WebhookDelivery.next_attempt_at <= at,
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.event_id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if row is None:
        return None
    row.attempts += 1
    row.next_attempt_at = lease_until
    row.updated_at = at
    return _record(row)


def record_delivered(session: Session, event_id: str, status: int, at: datetime) -> bool:
    """Mark a pending delivery accepted by its receiver; False when it was settled already."""
    return _settle(
        session,
        event_id,
        None,
        state=DeliveryState.DELIVERED.value,
        delivered_at=at,
        last_status=status,
        last_error=None,
        updated_at=at,
    )


def record_failed(
    session: Session,
    event_id: str,
    *,
    attempt: int,
    status: int | None,
    error: str,
    retry_at: datetime | None,
    at: datetime,
) -> bool:
    """Record failed attempt number `attempt`: due again at `retry_at`, or dead when that is None.

    A sender whose lease ended and whose delivery another sender has taken since records nothing.
    """
    if retry_at is None:
        return _settle(
            session,
            event_id,
            attempt,
            state=DeliveryState.DEAD.value,
            last_status=status,
            last_error=error,
            updated_at=at,
        )
    return _settle(
        session,
        event_id,
        attempt,
        next_attempt_at=retry_at,
        last_status=status,
        last_error=error,
        updated_at=at,
    )


def retry_dead(session: Session, event_id: str, owner: str | None, at: datetime) -> bool:
    """Give a dead delivery fresh attempts, due at `at`; False unless it was dead (and the owner's)."""
    statement = update(WebhookDelivery).where(
        WebhookDelivery.event_id == event_id, WebhookDelivery.state == DeliveryState.DEAD.value
    )
    if owner is not None:
        statement = statement.where(WebhookDelivery.owner == owner)
    values = {"state": DeliveryState.PENDING.value, "attempts": 0, "next_attempt_at": at, "updated_at": at}
    return affected_rows(session.execute(statement.values(values))) == 1


def load_delivery(session: Session, event_id: str) -> DeliveryRecord | None:
    """One delivery by its event id, or None."""
    row = session.get(WebhookDelivery, event_id)
    return None if row is None else _record(row)


def list_deliveries(
    session: Session, *, owner: str | None, state: DeliveryState | None, limit: int
) -> list[DeliveryRecord]:
    """Deliveries, newest first, of one owner (or all) and in one state (or any)."""
    query = select(WebhookDelivery)
    if owner is not None:
        query = query.where(WebhookDelivery.owner == owner)
    if state is not None:
        query = query.where(WebhookDelivery.state == state.value)
    query = query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.event_id).limit(limit)
    return [_record(row) for row in session.scalars(query)]


def next_pending_at(session: Session) -> datetime | None:
    """When the earliest pending delivery is due (or its lease ends); None when nothing is pending."""
    return session.scalar(
        select(WebhookDelivery.next_attempt_at)
        .where(WebhookDelivery.state == DeliveryState.PENDING.value)
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(1)
    )


def _settle(session: Session, event_id: str, attempt: int | None, **values: object) -> bool:
    statement = update(WebhookDelivery).where(
        WebhookDelivery.event_id == event_id, WebhookDelivery.state == DeliveryState.PENDING.value
    )
    if attempt is not None:
        statement = statement.where(WebhookDelivery.attempts == attempt)
    return (
        affected_rows(session.execute(statement.values(values).execution_options(synchronize_session=False)))
        == 1
    )


def _record(row: WebhookDelivery) -> DeliveryRecord:
    return DeliveryRecord(
        event_id=row.event_id,
        event_type=row.event_type,
        owner=row.owner,
        batch_id=row.batch_id,
        url=row.url,
        secret=row.secret,
        payload=row.payload,
        state=DeliveryState(row.state),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        delivered_at=row.delivered_at,
        last_status=row.last_status,
        last_error=row.last_error,
    )
