"""A round trip through broker and worker, used by `els` and the readiness checks."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="els.ping", ignore_result=False, acks_late=False)
def ping() -> str:
    """Answer `pong` from a worker."""
    return "pong"
