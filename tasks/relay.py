"""Publishing the outbox: after commits (debounced through Redis) and from beat as a backstop."""

from __future__ import annotations

from celery import shared_task

import celeryconfig
from db.relay import RelayResult, relay_outbox
from els import metrics
from els.publisher import publisher_from_settings
from els.runtime import get_runtime


@shared_task(name=celeryconfig.RELAY_TASK)
def relay_outbox_task() -> dict[str, int]:
    """Publish due outbox events to the `els.events` exchange."""
    result = relay_now()
    return {"published": result.published, "failed": result.failed, "parked": result.parked}


def relay_now() -> RelayResult:
    """Publish what is due now with this process's runtime."""
    runtime = get_runtime()
    settings = runtime.settings
    with publisher_from_settings(settings) as publisher:
        result = relay_outbox(
            runtime.engine,
            publisher,
            limit=settings.outbox_batch_size,
            max_attempts=settings.outbox_max_attempts,
        )
    metrics.EVENTS_PARKED.inc(result.parked)
    return result


def request_relay() -> None:
    """Ask for a relay soon; at most one request a second is published, beat covers the rest."""
    runtime = get_runtime()
    if runtime.coordinator.request_once("relay-requested", 1000):
        relay_outbox_task.delay()
