"""Webhooks as owners use them: configure one, read it back without its secret, follow the deliveries.

Which events are delivered is decided here, in one table; the relay queues a delivery for each of them
as it publishes the event (`queue_delivery`), in the transaction that marks the event published.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from db import webhooks
from db.clock import stamp
from db.session import unit_of_work
from db.webhooks import DeliveryRecord, DeliveryState, WebhookTarget
from els.errors import InvalidInputError, NotFoundError
from els.ids import public_id, public_payload
from services.bounds import check_plain_id
from services.outages import outage_as_not_ready
from services.runtime import Runtime
from services.webhook_targets import allowed_networks, check_literal_host, parse_webhook_url

__all__ = ["WEBHOOK_EVENT_TYPES", "ConfiguredWebhook", "DeliveryRecord", "DeliveryState"]

# The events a webhook receives: a batch's final word. batch.closed and batch.cancelled are emitted when
# an owner closes or cancels a batch; every other event stays on the exchange only.
WEBHOOK_EVENT_TYPES = frozenset({"batch.completed", "batch.expired", "batch.closed", "batch.cancelled"})

SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix the spec gives secrets)
SECRET_BYTES = 32
MAX_LISTED = 200


@dataclass(frozen=True)
class ConfiguredWebhook:
    """An owner's webhook as stored; `secret` is set only in the answer that created it."""

    url: str
    created_at: datetime
    secret: str | None = None


def new_secret() -> str:
    """A fresh Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def check_secret(secret: str) -> str:
    """`secret` when it is a Standard Webhooks secret (`whsec_` + base64 of 24 to 64 bytes)."""
    body = secret.removeprefix(SECRET_PREFIX)
    try:
        raw = base64.b64decode(body, validate=True)
    except ValueError as error:
        raise InvalidInputError("a webhook secret is `whsec_` followed by base64") from error
    if not secret.startswith(SECRET_PREFIX) or not 24 <= len(raw) <= 64:
        raise InvalidInputError("a webhook secret is `whsec_` followed by base64 of 24 to 64 random bytes")
    return secret


def check_url(runtime: Runtime, url: str) -> str:
    """`url` when ELS may deliver to it: http(s), no credentials, not a refused literal address."""
    parsed = parse_webhook_url(url)
    check_literal_host(parsed, allowed_networks(runtime.settings.webhook_allow_networks))
    return url


@outage_as_not_ready
def configure_webhook(runtime: Runtime, owner: str, url: str) -> ConfiguredWebhook:
    """Make `url` the owner's webhook with a fresh secret, shown in this answer only."""
    check_url(runtime, url)
    secret, at = new_secret(), stamp(None)
    with unit_of_work(runtime.engine) as session:
        webhooks.set_endpoint(session, owner, url, secret, at)
    return ConfiguredWebhook(url=url, created_at=at, secret=secret)


@outage_as_not_ready
def owner_webhook(runtime: Runtime, owner: str) -> ConfiguredWebhook:
    """The owner's webhook without its secret; NotFoundError when none is set."""
    with unit_of_work(runtime.engine, read_only=True) as session:
        target = webhooks.load_endpoint(session, owner)
    if target is None:
        raise NotFoundError("no webhook is configured; PUT /v1/webhook sets one")
    return ConfiguredWebhook(url=target.url, created_at=target.created_at)


@outage_as_not_ready
def remove_webhook(runtime: Runtime, owner: str) -> None:
    """Remove the owner's webhook; NotFoundError when none is set. Queued deliveries still go out."""
    with unit_of_work(runtime.engine) as session:
        removed = webhooks.delete_endpoint(session, owner)
    if not removed:
        raise NotFoundError("no webhook is configured")


@outage_as_not_ready
def list_deliveries(
    runtime: Runtime, owner: str | None, state: DeliveryState | None = None, limit: int = 50
) -> list[DeliveryRecord]:
    """Deliveries newest first, of one owner (None: every owner's, for operators)."""
    if not 1 <= limit <= MAX_LISTED:
        raise InvalidInputError(f"limit is between 1 and {MAX_LISTED}", details={"limit": limit})
    with unit_of_work(runtime.engine, read_only=True) as session:
        records = webhooks.list_deliveries(session, owner=owner, state=state, limit=limit)
    return [replace(record, batch_id=public_id(record.batch_id)) for record in records]


@outage_as_not_ready
def retry_delivery(runtime: Runtime, event_id: str, owner: str | None = None) -> None:
    """Give a dead delivery a fresh set of attempts now; NotFoundError unless it is dead (and the owner's)."""
    check_plain_id("event_id", event_id)
    with unit_of_work(runtime.engine) as session:
        retried = webhooks.retry_dead(session, event_id, owner, stamp(None))
    if not retried:
        raise NotFoundError(f"no dead webhook delivery {event_id}", details={"event_id": event_id})
    runtime.dispatcher.send_webhooks()


def queue_delivery(
    session: Session, *, event_id: str, event_type: str, batch_id: str, payload: str, at: datetime
) -> bool:
    """In the caller's transaction, queue a delivery of the event if its type is delivered and its batch
    has a webhook; True when one was queued now (a republished event queues nothing new).

    The receiver is the batch's owner, so the payload names the batch and its essays by public ids."""
    if event_type not in WEBHOOK_EVENT_TYPES:
        return False
    target: WebhookTarget | None = webhooks.target_for_batch(session, batch_id)
    if target is None:
        return False
    return webhooks.add_delivery(
        session,
        event_id=event_id,
        event_type=event_type,
        batch_id=batch_id,
        target=target,
        payload=public_payload(payload, target.owner),
        at=at,
    )


def add_batch_webhook(session: Session, batch_id: str, url: str, secret: str, at: datetime) -> None:
    """In the registration's transaction, give the batch its own webhook (checked by the caller)."""
    webhooks.add_batch_webhook(session, batch_id, url, secret, at)
