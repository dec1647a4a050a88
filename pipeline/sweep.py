"""The periodic sweep: expire batches past their deadline, find batches stuck before DONE, and find
submissions whose processing message was lost (a broker can drop a message a crashed worker had fetched).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from coordinator import now_ms
from db.session import unit_of_work
from db.submissions import StaleSubmission, claim_stale_submissions, has_stale_submissions
from els import metrics
from els.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepResult:
    """What one sweep did; `to_complete` need their completion dispatched, `resubmitted` their processing."""

    ran: bool
    expired: tuple[str, ...]
    rekicked: tuple[str, ...]
    resubmitted: tuple[StaleSubmission, ...] = ()

    @property
    def to_complete(self) -> tuple[str, ...]:
        """Every batch this sweep hands to completion, each once."""
        return tuple(dict.fromkeys((*self.expired, *self.rekicked)))


def sweep(
    runtime: Runtime, now: int | None = None, *, queue_idle: Callable[[], bool] = lambda: True
) -> SweepResult:
    """One bounded sweep; skipped when another sweep holds the lock (two beats are safe either way).

    A submission still unsettled after both `stuck_after_seconds` and the broker's visibility timeout
    (after which the broker itself would have redelivered it) is handed out again, if `queue_idle()`
    says no message waits (asked only when such a submission exists).
    """
    settings = runtime.settings
    with runtime.coordinator.sweep_lock(max(60.0, settings.sweep_interval_seconds * 2)) as acquired:
        if not acquired:
            return SweepResult(ran=False, expired=(), rekicked=())
        at = now_ms() if now is None else now
        expired = runtime.coordinator.expire_due(at, settings.sweep_limit)
        stuck = runtime.coordinator.rekick_stuck(
            at, settings.stuck_after_seconds * 1000, settings.sweep_limit
        )
        stale = _claim_stale(runtime, at, queue_idle)
    metrics.EXPIRIES.inc(len(expired))
    metrics.REKICKS.inc(len(stuck))
    metrics.RESUBMISSIONS.inc(len(stale))
    if expired or stuck or stale:
        log.info(
            "sweep expired %d and re-kicked %d batches, resubmitted %d submissions",
            len(expired),
            len(stuck),
            len(stale),
        )
    return SweepResult(
        ran=True,
        expired=tuple(batch.batch_id for batch in expired),
        rekicked=tuple(batch.batch_id for batch in stuck),
        resubmitted=tuple(stale),
    )


def _claim_stale(runtime: Runtime, at: int, queue_idle: Callable[[], bool]) -> list[StaleSubmission]:
    # A read first: most sweeps find nothing stale and need neither the write lock nor the broker.
    settings = runtime.settings
    untouched_since = _utc(at - max(settings.stuck_after_seconds, settings.visibility_timeout) * 1000)
    with unit_of_work(runtime.engine, read_only=True) as session:
        if not has_stale_submissions(session, untouched_since):
            return []
    if not queue_idle():
        return []
    with unit_of_work(runtime.engine) as session:
        return claim_stale_submissions(session, untouched_since, settings.sweep_limit, at=_utc(at))


def _utc(at_ms: int) -> datetime:
    return datetime.fromtimestamp(at_ms / 1000, UTC)
