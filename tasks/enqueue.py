"""The only way to start work: typed functions over the untyped `apply_async`."""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec

from celery import Celery

from tasks.pipeline import registration_followup, start_processing

P = ParamSpec("P")


def enqueue_submission(batch_id: str, submission_id: str, correlation_id: str) -> None:
    """Start processing a stored submission; publishing it twice is harmless (tasks are idempotent)."""
    start_processing(batch_id, submission_id, correlation_id)


def enqueue_registration_followup(batch_id: str, correlation_id: str) -> None:
    """Settle submissions whose outcomes a registration replayed, and complete the batch if it closed."""
    registration_followup.apply_async(args=(batch_id, correlation_id))


def through(app: Celery, enqueue: Callable[P, None]) -> Callable[P, None]:
    """`enqueue` publishing through `app` from whichever thread runs it.

    Celery's current app is per thread: a thread that never set one publishes through Celery's default
    app, whose broker and queue come from the environment, not from the settings `app` was built with.
    """

    def publish(*args: P.args, **kwargs: P.kwargs) -> None:
        app.set_current()
        enqueue(*args, **kwargs)

    return publish
