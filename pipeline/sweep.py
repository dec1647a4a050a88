"""The periodic sweep: expire batches past their deadline and find batches stuck before DONE."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from coordinator import now_ms
from els import metrics
from els.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepResult:
    """What one sweep did; `to_complete` are the batches whose completion must be dispatched."""

    ran: bool
    expired: tuple[str, ...]
    rekicked: tuple[str, ...]

    @property
    def to_complete(self) -> tuple[str, ...]:
        """Every batch this sweep hands to completion, each once."""
        return tuple(dict.fromkeys((*self.expired, *self.rekicked)))


def sweep(runtime: Runtime, now: int | None = None) -> SweepResult:
    """One bounded sweep; skipped when another sweep holds the lock (two beats are safe either way)."""
    settings = runtime.settings
    lock = runtime.redis.lock(
        f"{settings.key_prefix}:sweep-lock",
        timeout=max(60.0, settings.sweep_interval_seconds * 2),
        blocking=False,
    )
    if not lock.acquire(blocking=False):
        return SweepResult(ran=False, expired=(), rekicked=())
    try:
        at = now_ms() if now is None else now
        expired = runtime.coordinator.expire_due(at, settings.sweep_limit)
        stuck = runtime.coordinator.rekick_stuck(
            at, settings.stuck_after_seconds * 1000, settings.sweep_limit
        )
    finally:
        lock.release()
    metrics.EXPIRIES.inc(len(expired))
    metrics.REKICKS.inc(len(stuck))
    if expired or stuck:
        log.info("sweep expired %d and re-kicked %d batches", len(expired), len(stuck))
    return SweepResult(
        ran=True,
        expired=tuple(batch.batch_id for batch in expired),
        rekicked=tuple(batch.batch_id for batch in stuck),
    )
