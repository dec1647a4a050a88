"""Publishing the outbox as a task: asked for after commits, and run by beat as a backstop."""

from __future__ import annotations

from celery import shared_task

from celeryconfig import RELAY_TASK
from services.relay import relay_now
from tasks.installed import runtime


@shared_task(name=RELAY_TASK)
def relay_outbox_task() -> dict[str, int]:
    """Publish due outbox events to the `els.events` exchange."""
    result = relay_now(runtime())
    return {"published": result.published, "failed": result.failed, "parked": result.parked}
