"""Delivering webhooks: one due delivery at a time, signed per Standard Webhooks, retried with backoff.

Each attempt is taken under a lease (its `next_attempt_at` moved past the attempt's timeout) and
committed before the request is sent, so a sender killed mid-request leaves the delivery due again when
the lease ends, and the next attempt carries the same `webhook-id`: the event's id. Receivers
de-duplicate by it, as the spec asks. After `ELS_WEBHOOK_MAX_ATTEMPTS` failures a delivery is dead.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from standardwebhooks.webhooks import Webhook

from db import webhooks
from db.clock import stamp
from db.session import unit_of_work
from db.webhooks import DeliveryRecord
from els import metrics
from els.errors import WebhookTargetRefusedError
from services.backoff import backoff
from services.runtime import Runtime
from services.webhook_targets import (
    WebhookAnswer,
    allowed_networks,
    parse_webhook_url,
    post_to_address,
    resolve_checked,
)

log = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 500
# Past the attempt's own timeout, so a lease never ends while its attempt may still be running.
LEASE_MARGIN_SECONDS = 5.0
# A sender that leaves work due within this long asks for a run then; beat covers longer waits.
FOLLOW_UP_HORIZON_SECONDS = 60.0
USER_AGENT = "ELS-Webhooks/1"


@dataclass(frozen=True)
class SenderResult:
    """What one sender run did with the deliveries it took."""

    delivered: int = 0
    failed: int = 0
    dead: int = 0


def signed_headers(delivery: DeliveryRecord, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt: the event id, the attempt's time, the signature."""
    signature = Webhook(delivery.secret).sign(msg_id=delivery.event_id, timestamp=at, data=delivery.payload)
    return {
        "webhook-id": delivery.event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def send_due_webhooks(runtime: Runtime, *, now: datetime | None = None) -> SenderResult:
    """Attempt up to `ELS_WEBHOOK_BATCH_SIZE` due deliveries, oldest first, then ask for a follow-up run
    if more are due soon."""
    settings = runtime.settings
    delivered = failed = dead = 0
    # Take no attempt that could outlast half the task's soft time limit: the rest wait for the next run.
    stop_by = time.monotonic() + settings.task_soft_time_limit / 2 - settings.webhook_timeout_seconds
    for taken in range(settings.webhook_batch_size):
        if taken and time.monotonic() > stop_by:
            break
        at = stamp(now)
        lease = timedelta(seconds=settings.webhook_timeout_seconds + LEASE_MARGIN_SECONDS)
        with unit_of_work(runtime.engine) as session:
            delivery = webhooks.take_due_delivery(session, at, at + lease)
        if delivery is None:
            break
        outcome = attempt_delivery(runtime, delivery, at, now=now)
        delivered += outcome == "delivered"
        failed += outcome == "failed"
        dead += outcome == "dead"
    _ask_for_follow_up(runtime, stamp(now))
    return SenderResult(delivered=delivered, failed=failed, dead=dead)


def attempt_delivery(
    runtime: Runtime, delivery: DeliveryRecord, at: datetime, *, now: datetime | None = None
) -> str:
    """POST one taken delivery and record how it went: `delivered`, `failed` (due again) or `dead`."""
    settings = runtime.settings
    status: int | None = None
    try:
        url = parse_webhook_url(delivery.url)
        address = resolve_checked(url, allowed_networks(settings.webhook_allow_networks))
        answer: WebhookAnswer = post_to_address(
            url,
            address,
            delivery.payload.encode(),
            signed_headers(delivery, at),
            settings.webhook_timeout_seconds,
        )
        status = answer.status
        error = (
            None if 200 <= answer.status < 300 else f"the receiver answered {answer.status}: {answer.body}"
        )
    except WebhookTargetRefusedError as refused:
        metrics.WEBHOOK_DELIVERIES.labels(outcome="refused").inc()
        error = refused.message
    except OSError as failure:
        error = f"the request failed: {failure}"
    finished = stamp(now)
    with unit_of_work(runtime.engine) as session:
        if error is None and status is not None:
            webhooks.record_delivered(session, delivery.event_id, status, finished)
            outcome = "delivered"
        else:
            exhausted = delivery.attempts >= settings.webhook_max_attempts
            wait = backoff(
                delivery.attempts, settings.webhook_backoff_seconds, settings.webhook_max_backoff_seconds
            )
            webhooks.record_failed(
                session,
                delivery.event_id,
                attempt=delivery.attempts,
                status=status,
                error=(error or "")[:MAX_ERROR_LENGTH],
                retry_at=None if exhausted else finished + wait,
                at=finished,
            )
            outcome = "dead" if exhausted else "failed"
    metrics.WEBHOOK_DELIVERIES.labels(outcome=outcome).inc()
    if outcome == "dead":
        metrics.WEBHOOK_DEAD_LETTERS.inc()
        log.error(
            "webhook delivery %s is dead after %d attempts: %s", delivery.event_id, delivery.attempts, error
        )
    elif outcome == "failed":
        log.warning(
            "webhook delivery %s failed (attempt %d): %s", delivery.event_id, delivery.attempts, error
        )
    return outcome


def _ask_for_follow_up(runtime: Runtime, at: datetime) -> None:
    with unit_of_work(runtime.engine, read_only=True) as session:
        due = webhooks.next_pending_at(session)
    if due is None:
        return
    wait = max(0.0, (due - at).total_seconds())
    if wait > FOLLOW_UP_HORIZON_SECONDS:
        return
    # One follow-up per window, however many runs ask: the runs never multiply.
    if runtime.coordinator.request_once("webhooks-follow-up", ttl_ms=max(1, int(wait * 1000))):
        runtime.dispatcher.send_webhooks(countdown=wait)
