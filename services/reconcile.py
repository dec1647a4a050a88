"""Batches SQL holds but Redis never took: the registration crash window, closed from SQL's side.

Registration commits SQL before it asks Redis, and Redis is the commit point. When the Redis call never
happens (a crash, an outage, a client that gave up), an OPEN row is left that nothing would ever close.
Once its deadline has passed by `stuck_after_seconds`, no registration can still take it in Redis (a
registration past its deadline is refused), so the sweep closes it: EXPIRED, every slot missing, a report
and the whole lifecycle of events. Such a batch never took an upload: intake needs Redis to know the batch.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from db.batches import expire_unregistered, list_open_untouched, load_batch
from db.session import unit_of_work
from els import metrics
from els.logs import log_context
from essays.report import BatchFacts, build_report
from services.runtime import Runtime

log = logging.getLogger(__name__)


def expire_unregistered_batches(runtime: Runtime, at_ms: int) -> tuple[str, ...]:
    """Close, at most `sweep_limit` per call, the OPEN SQL batches past deadline that Redis does not know."""
    settings = runtime.settings
    at = datetime.fromtimestamp(at_ms / 1000, UTC)
    deadline_before = datetime.fromtimestamp((at_ms - settings.stuck_after_seconds * 1000) / 1000, UTC)
    with unit_of_work(runtime.engine, read_only=True) as session:
        candidates = list_open_untouched(session, deadline_before, settings.sweep_limit)
    closed: list[str] = []
    for batch_id in candidates:
        if runtime.coordinator.knows(batch_id):
            continue  # live in Redis: its expiry is the coordinator's, and the SQL mirror follows
        if _expire(runtime, batch_id, at):
            closed.append(batch_id)
    metrics.RECONCILED.inc(len(closed))
    return tuple(closed)


def _expire(runtime: Runtime, batch_id: str, at: datetime) -> bool:
    with unit_of_work(runtime.engine) as session:
        stored = load_batch(session, batch_id)
        if stored is None:
            return False
        slots = stored.record.essay_ids
        report = build_report(BatchFacts(batch_id, len(slots)), [], [], [], slots)
        expired = expire_unregistered(session, batch_id, report.to_json(), at)
    if expired:
        with log_context(batch_id=batch_id):
            log.warning(
                "batch %s was stored but never registered in Redis; expired it with all %d slots missing",
                batch_id,
                len(slots),
            )
    return expired
