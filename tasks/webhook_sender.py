"""Sending webhooks as a task on the control queue: asked for by the relay, by itself, and by beat."""

from __future__ import annotations

from celery import shared_task

from celeryconfig import WEBHOOK_TASK
from services.webhook_delivery import send_due_webhooks
from tasks.installed import runtime


@shared_task(name=WEBHOOK_TASK)
def send_webhooks_task() -> dict[str, int]:
    """Attempt the due webhook deliveries with this process's runtime."""
    result = send_due_webhooks(runtime())
    return {"delivered": result.delivered, "failed": result.failed, "dead": result.dead}
