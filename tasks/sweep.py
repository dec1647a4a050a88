"""The beat-driven sweep as a task: expire due batches, re-kick stuck ones, resubmit stale submissions."""

from __future__ import annotations

from celery import shared_task

from celeryconfig import SWEEP_TASK
from services.sweep import sweep
from tasks.installed import runtime


@shared_task(name=SWEEP_TASK)
def sweep_task() -> dict[str, int]:
    """One bounded sweep with this process's runtime."""
    result = sweep(runtime())
    return {
        "expired": len(result.expired),
        "rekicked": len(result.rekicked),
        "resubmitted": len(result.resubmitted),
    }
