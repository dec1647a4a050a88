"""The beat-driven sweep: expire due batches, re-kick stuck ones, dispatch their completion."""

from __future__ import annotations

from celery import shared_task

import celeryconfig
from els.runtime import get_runtime
from pipeline.sweep import sweep
from tasks.pipeline import dispatch_completion


@shared_task(name=celeryconfig.SWEEP_TASK)
def sweep_task() -> dict[str, int]:
    """One bounded sweep; every batch it closes or finds stuck gets its completion dispatched."""
    result = sweep(get_runtime())
    for batch_id in result.to_complete:
        dispatch_completion(batch_id)
    return {"expired": len(result.expired), "rekicked": len(result.rekicked)}
