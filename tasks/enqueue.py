"""The only way to start work: typed functions over the untyped `apply_async`."""

from __future__ import annotations

from tasks.pipeline import registration_followup, start_processing


def enqueue_submission(batch_id: str, submission_id: str, correlation_id: str) -> None:
    """Start processing a stored submission; publishing it twice is harmless (tasks are idempotent)."""
    start_processing(batch_id, submission_id, correlation_id)


def enqueue_registration_followup(batch_id: str, correlation_id: str) -> None:
    """Settle submissions whose outcomes a registration replayed, and complete the batch if it closed."""
    registration_followup.apply_async(args=(batch_id, correlation_id))
