"""`CeleryDispatcher`: the `Dispatcher` port on Celery, and the only code that sends a task message.

Every message goes through the app it was built with, never Celery's per-thread current app: intake
dispatches from worker threads, where the current app would be Celery's default, built from the
environment instead of from ELS's settings.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from celery import Celery, chord
from kombu.exceptions import KombuError

from tasks import pipeline
from tasks.relay import relay_outbox_task
from tasks.sweep import expire_due_task
from tasks.webhook_sender import send_webhooks_task

log = logging.getLogger(__name__)

PING_TIMEOUT_SECONDS = 3


class CeleryDispatcher:
    """Starts ELS's work as Celery messages on `app`; task ids make repeated dispatches collapse."""

    def __init__(self, app: Celery, queue: str) -> None:
        self.app = app
        self.queue = queue

    def process(self, batch_id: str, submission_id: str, correlation_id: str) -> None:
        """Publish `process_essay`; its error link records a final failure against the batch."""
        task = self.app.tasks[pipeline.process_essay.name]
        errback = self.app.tasks[pipeline.record_processing_failure.name]
        # Keywords only: Celery puts the failed task's id in front of an error callback's positional
        # arguments (`celery.backends.base.Backend._call_task_errbacks`).
        failed = errback.s(batch_id=batch_id, submission_id=submission_id, correlation_id=correlation_id)
        task.apply_async(
            args=(batch_id, submission_id, correlation_id),
            task_id=f"els-process-{submission_id}",
            link_error=failed,
        )

    def follow_registration(self, batch_id: str, correlation_id: str) -> None:
        """Publish `registration_followup`."""
        self.app.tasks[pipeline.registration_followup.name].apply_async(args=(batch_id, correlation_id))

    def complete(self, batch_id: str) -> None:
        """Publish `complete_batch`."""
        self.app.tasks[pipeline.complete_batch.name].apply_async(
            args=(batch_id,), task_id=f"els-complete-{batch_id}"
        )

    def analyse_then_finalize(self, batch_id: str, essay_ids: Sequence[str]) -> None:
        """A chord of one `analyse_essay` per essay, then `finalize_batch` (directly when none)."""
        analyse = self.app.tasks[pipeline.analyse_essay.name]
        finalizer = (
            self.app.tasks[pipeline.finalize_batch.name].si(batch_id).set(task_id=f"els-finalize-{batch_id}")
        )
        if not essay_ids:
            finalizer.apply_async()
            return
        chord((analyse.si(batch_id, essay_id) for essay_id in essay_ids), app=self.app)(finalizer)

    def relay(self) -> None:
        """Publish `relay_outbox`."""
        self.app.tasks[relay_outbox_task.name].apply_async()

    def expire_at(self, batch_id: str, when_ms: int) -> None:
        """Publish `expire_due` with its ETA at `when_ms`, on the control queue; a broker error is logged.

        Best effort: beat's sweep expires the batch anyway, only later, so registration never fails for it.
        """
        eta = datetime.fromtimestamp(when_ms / 1000, UTC)
        try:
            self.app.tasks[expire_due_task.name].apply_async(args=(batch_id,), eta=eta)
        except (KombuError, OSError) as error:
            log.warning(
                "could not schedule the deadline of batch %s: %s; the sweep will expire it", batch_id, error
            )

    def send_webhooks(self, countdown: float = 0.0) -> None:
        """Publish `send_webhooks`, to run `countdown` seconds from now."""
        self.app.tasks[send_webhooks_task.name].apply_async(countdown=countdown)

    def ping(self) -> None:
        """Connect to the broker once, or raise."""
        with self.app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=PING_TIMEOUT_SECONDS)
