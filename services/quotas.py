"""Per-owner quotas: open batches and slots at registration, uploads and bytes per day at submission.

Each check takes what it grants in the same Redis script (coordinator/quota.py), before the first write
of the request it guards; a refused registration gives its batch's reservation back.
"""

from __future__ import annotations

import math

from coordinator import now_ms
from coordinator.quota import QuotaVerdict
from els.errors import QuotaExceededError
from services.runtime import Runtime

_WHAT = {
    "open_batches": "open batches",
    "open_slots": "essay slots in open batches",
    "uploads_per_day": "uploads today (UTC)",
    "upload_bytes_per_day": "upload bytes today (UTC)",
}


def _limit(runtime: Runtime, quota: str) -> int:
    settings = runtime.settings
    return {
        "open_batches": settings.quota_open_batches,
        "open_slots": settings.quota_open_slots,
        "uploads_per_day": settings.quota_uploads_per_day,
        "upload_bytes_per_day": settings.quota_upload_bytes_per_day,
    }.get(quota, 0)


def _refuse(runtime: Runtime, owner: str, verdict: QuotaVerdict) -> QuotaExceededError:
    quota = verdict.quota or "unknown"
    limit = _limit(runtime, quota)
    retry_after = max(1, math.ceil(verdict.retry_after_ms / 1000))
    return QuotaExceededError(
        f"owner {owner} has reached its quota of {limit} {_WHAT.get(quota, quota)}; retry in {retry_after} s",
        details={"quota": quota, "limit": limit, "retry_after": retry_after},
    )


def reserve_batch(runtime: Runtime, owner: str, batch_id: str, slots: int, deadline_ms: int) -> bool:
    """Count a batch against the owner's quotas; True when this call took it (False: counted before).

    QuotaExceededError when it does not fit.
    """
    if runtime.quotas is None:
        return False
    verdict = runtime.quotas.reserve_batch(owner, batch_id, slots, deadline_ms, now_ms())
    if not verdict.granted:
        raise _refuse(runtime, owner, verdict)
    return verdict.verdict == "reserved"


def release_batch(runtime: Runtime, owner: str, batch_id: str) -> None:
    """Give back the reservation of a batch whose registration was refused."""
    if runtime.quotas is not None:
        runtime.quotas.release_batch(owner, batch_id, now_ms())


def reserve_uploads(runtime: Runtime, owner: str, count: int, size: int) -> None:
    """Count `count` new uploads of `size` bytes against the owner's day; QuotaExceededError if over."""
    if runtime.quotas is None or count == 0:
        return
    verdict = runtime.quotas.reserve_uploads(owner, count, size, now_ms())
    if not verdict.granted:
        raise _refuse(runtime, owner, verdict)
