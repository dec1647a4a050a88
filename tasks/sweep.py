"""The beat-driven sweep as a task: expire due batches, re-kick stuck ones, resubmit stale submissions."""

from __future__ import annotations

from celery import shared_task

from celeryconfig import EXPIRE_DUE_TASK, SWEEP_TASK
from services.sweep import expire_now, sweep
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


@shared_task(name=EXPIRE_DUE_TASK)
def expire_due_task(batch_id: str) -> int:
    """The countdown of one batch's deadline: expire every batch due now (its own included), each once."""
    return len(expire_now(runtime(), batch_id))
