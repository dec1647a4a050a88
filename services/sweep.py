"""The periodic sweep: expire batches past their deadline, find batches stuck before DONE, and find
submissions whose processing message was lost (a broker can drop a message a crashed worker had fetched).
A stuck batch whose keys vanished from Redis is reported (an ERROR log, `els_batches_vanished_total`).
A batch SQL stored but Redis never took (a registration that failed midway) is expired from SQL once its
deadline is well past (services.reconcile).

Each batch the coordinator expires is handed out once, ever, so its completion is dispatched right away,
before any later step can fail. The lock only keeps two sweeps from doing the same work at once; nothing
depends on it for correctness.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from coordinator import now_ms
from db.session import unit_of_work
from db.submissions import StaleSubmission, claim_stale_submissions, has_stale_submissions
from els import metrics
from els.logs import log_context
from services.reconcile import expire_unregistered_batches
from services.relay import request_relay
from services.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepResult:
    """What one sweep did: batches expired and re-kicked (completion dispatched), submissions resubmitted."""

    ran: bool
    expired: tuple[str, ...]
    rekicked: tuple[str, ...]
    resubmitted: tuple[StaleSubmission, ...] = ()
    vanished: tuple[str, ...] = ()  # closed, not DONE, and their keys are gone: reported, not completed
    unregistered: tuple[str, ...] = ()  # stored in SQL, never taken by Redis: expired from SQL

    @property
    def to_complete(self) -> tuple[str, ...]:
        """Every batch this sweep handed to completion, each once."""
        return (*self.expired, *self.rekicked)


def sweep(runtime: Runtime, now: int | None = None) -> SweepResult:
    """One bounded sweep, dispatching what it finds; skipped when another sweep holds the lock.

    A submission still unsettled after both `stuck_after_seconds` and the broker's visibility timeout
    (after which the broker itself would have redelivered it) is processed again. Deadlines and leases
    are judged by Redis's clock; `now` pins a moment instead (tests). This host's clock only times what
    SQL keeps (stale submissions, registrations never confirmed) and the heartbeat.
    """
    settings = runtime.settings
    at = now_ms() if now is None else now
    # The heartbeat `els beat-alive` reads: beat sent a sweep and a worker ran it, lock or no lock.
    runtime.coordinator.record_sweep(at, heartbeat_ttl_ms(settings.sweep_interval_seconds))
    with runtime.coordinator.sweep_lock(max(60.0, settings.sweep_interval_seconds * 2)) as acquired:
        if not acquired:
            return SweepResult(ran=False, expired=(), rekicked=())
        expired = tuple(batch.batch_id for batch in runtime.coordinator.expire_due(now, settings.sweep_limit))
        _complete(runtime, expired)
        metrics.EXPIRIES.inc(len(expired))
        stuck_ms = settings.stuck_after_seconds * 1000
        stuck = runtime.coordinator.rekick_stuck(now, stuck_ms, settings.sweep_limit)
        vanished = tuple(batch.batch_id for batch in stuck if batch.vanished)
        rekicked = tuple(
            batch.batch_id for batch in stuck if not batch.vanished and batch.batch_id not in expired
        )
        _complete(runtime, rekicked)
        metrics.REKICKS.inc(len(stuck) - len(vanished))
        _report_vanished(vanished)
        stale = _claim_stale(runtime, at)
        for submission in stale:
            runtime.dispatcher.process(
                submission.batch_id, submission.submission_id, submission.correlation_id
            )
        metrics.RESUBMISSIONS.inc(len(stale))
        unregistered = expire_unregistered_batches(runtime, at)
        if unregistered:
            request_relay(runtime)
    if expired or stuck or stale:
        log.info(
            "sweep expired %d and re-kicked %d batches, resubmitted %d submissions",
            len(expired),
            len(stuck) - len(vanished),
            len(stale),
        )
    return SweepResult(
        ran=True,
        expired=expired,
        rekicked=rekicked,
        resubmitted=tuple(stale),
        vanished=vanished,
        unregistered=unregistered,
    )


def expire_now(runtime: Runtime, batch_id: str | None = None, now: int | None = None) -> tuple[str, ...]:
    """Expire the batches due now and dispatch their completion: the deadline countdown's work.

    The same step the sweep takes first (expire.lua hands each batch out once, so running both is safe),
    run at a batch's deadline so it expires within moments, not at the next sweep; `batch_id` only names
    the batch whose countdown it is, for the logs.
    """
    with log_context(batch_id=batch_id):
        expired = tuple(
            batch.batch_id for batch in runtime.coordinator.expire_due(now, runtime.settings.sweep_limit)
        )
        _complete(runtime, expired)
        metrics.EXPIRIES.inc(len(expired))
    return expired


def heartbeat_ttl_ms(sweep_interval_seconds: float) -> int:
    """How long a sweep's heartbeat outlives it: ten intervals, at least ten minutes."""
    return int(max(sweep_interval_seconds * 10, 600.0) * 1000)


def sweep_age_seconds(runtime: Runtime, now: int | None = None) -> float | None:
    """Seconds since the last sweep ran, from its heartbeat in Redis; None when none ran lately."""
    last = runtime.coordinator.last_sweep_ms()
    if last is None:
        return None
    at = now_ms() if now is None else now
    return max(0, at - last) / 1000


def _complete(runtime: Runtime, batch_ids: tuple[str, ...]) -> None:
    for batch_id in batch_ids:
        runtime.dispatcher.complete(batch_id)


def _report_vanished(batch_ids: tuple[str, ...]) -> None:
    # Nothing can finish such a batch (Redis was its only truth); SQL keeps it closed with no report.
    for batch_id in batch_ids:
        with log_context(batch_id=batch_id):
            log.error(
                "batch %s was closed but never finished, and its Redis keys are gone (evicted or deleted): "
                "it will get no report",
                batch_id,
            )
    metrics.VANISHED.inc(len(batch_ids))


def _claim_stale(runtime: Runtime, at: int) -> list[StaleSubmission]:
    # On age alone, whatever waits in the queue: a submission received before its deadline must not turn
    # excess because a lost message waited for a backlog to drain. A copy of one still queued costs a
    # cheap replay later (processing and settling are idempotent). It is sent again once it is untouched
    # for `max(stuck_after, visibility_timeout)`, and each time after that waits twice as long (up to 8
    # times), so a queue that waits longer than the period does not gain a copy of it every period.
    settings = runtime.settings
    patience = timedelta(seconds=max(settings.stuck_after_seconds, settings.visibility_timeout))
    now = _utc(at)
    # A read first: most sweeps find nothing stale and need no write lock.
    with unit_of_work(runtime.engine, read_only=True) as session:
        if not has_stale_submissions(session, now, patience):
            return []
    with unit_of_work(runtime.engine) as session:
        return claim_stale_submissions(session, now, patience, settings.sweep_limit)


def _utc(at_ms: int) -> datetime:
    return datetime.fromtimestamp(at_ms / 1000, UTC)
