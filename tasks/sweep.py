"""The beat-driven sweep: expire due batches, re-kick stuck ones, resubmit stale submissions."""

from __future__ import annotations

from celery import shared_task

import celeryconfig
from els.runtime import Runtime, get_runtime
from pipeline.sweep import SweepResult, sweep
from tasks.pipeline import dispatch_completion, start_processing


def sweep_and_dispatch(runtime: Runtime, now: int | None = None) -> SweepResult:
    """One sweep, then the messages it calls for: completion of each batch, processing of each submission."""
    result = sweep(runtime, now)
    for batch_id in result.to_complete:
        dispatch_completion(batch_id)
    for stale in result.resubmitted:
        start_processing(stale.batch_id, stale.submission_id, stale.correlation_id)
    return result


@shared_task(name=celeryconfig.SWEEP_TASK)
def sweep_task() -> dict[str, int]:
    """One bounded sweep with this process's runtime."""
    result = sweep_and_dispatch(get_runtime())
    return {
        "expired": len(result.expired),
        "rekicked": len(result.rekicked),
        "resubmitted": len(result.resubmitted),
    }
