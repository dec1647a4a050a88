"""Intake for synchronous callers (the CLI, the demo, tests): the same `els.intake`, run on a fresh loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from celery._state import get_current_app

from els import intake
from els.intake import AcceptedSubmission, BatchRequest, Intake, RegisteredBatch, Upload
from els.runtime import Runtime
from tasks.enqueue import enqueue_registration_followup, enqueue_submission, through

T = TypeVar("T")


def register_batch(runtime: Runtime, request: BatchRequest) -> RegisteredBatch:
    """Register a batch (SQL first, then Redis); an identical replay returns the same batch."""
    return _run(runtime, lambda ready: intake.register_batch(ready, request))


def submit_essays(
    runtime: Runtime,
    owner: str,
    batch_id: str,
    uploads: Sequence[Upload],
    *,
    correlation_id: str,
    idempotency_key: str | None = None,
) -> list[AcceptedSubmission]:
    """Store and enqueue uploads for an OPEN batch of `owner`'s; a refused upload stores nothing."""
    return _run(
        runtime,
        lambda ready: intake.submit_essays(
            ready, owner, batch_id, uploads, idempotency_key=idempotency_key, correlation_id=correlation_id
        ),
    )


def _run(runtime: Runtime, step: Callable[[Intake], Awaitable[T]]) -> T:
    # Intake publishes from worker threads: through the caller's current Celery app, not Celery's default.
    app = get_current_app()
    ready = Intake(
        settings=runtime.settings,
        engine=runtime.engine,
        coordinator=runtime.coordinator,
        enqueue_submission=through(app, enqueue_submission),
        enqueue_registration_followup=through(app, enqueue_registration_followup),
    )

    async def with_intake() -> T:
        return await step(ready)

    return asyncio.run(with_intake())
