"""The history of a cluster run: every client request and its answer, every fault, every event consumed
from the events exchange, and the final SQL and Redis state of each batch.

Entries are appended in the order they happened, each with its time since the run began; the whole
history is written to `history.jsonl` in the run's directory, and the checker quotes slices of it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from coordinator import BatchStatus
from db.models import Batch, OutboxEvent, Submission
from db.session import unit_of_work
from services.runtime import Runtime

Entry = dict[str, Any]


@dataclass
class History:
    """An append-only list of entries, timed from the run's start."""

    seed: int
    started: float = field(default_factory=time.monotonic)
    entries: list[Entry] = field(default_factory=list)

    def record(self, kind: str, **fields: Any) -> Entry:
        """Append one entry (`kind`: invoke, ok, fail, fault, heal, event, state) and return it."""
        entry: Entry = {"t": round(time.monotonic() - self.started, 3), "kind": kind, **fields}
        self.entries.append(entry)
        return entry

    def about(self, batch_id: str, limit: int = 40) -> list[Entry]:
        """The entries naming `batch_id` (and every fault), the last `limit` of them."""
        found = [
            entry
            for entry in self.entries
            if entry.get("batch") == batch_id or entry["kind"] in ("fault", "heal")
        ]
        return found[-limit:]

    def write(self, path: Path) -> None:
        """The whole history as JSON lines."""
        with path.open("w") as out:
            for entry in self.entries:
                out.write(json.dumps(entry, default=str) + "\n")


def when(moment: datetime | None) -> float | None:
    """A SQL time as epoch seconds."""
    return None if moment is None else moment.timestamp()


def snapshot(runtime: Runtime, batch_ids: list[str]) -> dict[str, Entry]:
    """Each batch's final state in SQL and in Redis, as plain data (scoped batch id -> state)."""
    state: dict[str, Entry] = {}
    with unit_of_work(runtime.engine, read_only=True) as session:
        batches = {
            row.batch_id: row for row in session.scalars(select(Batch).where(Batch.batch_id.in_(batch_ids)))
        }
        submissions = session.scalars(select(Submission).where(Submission.batch_id.in_(batch_ids))).all()
        rows = session.execute(
            select(OutboxEvent.aggregate_id, func.count())
            .where(OutboxEvent.event_type == "batch.completed", OutboxEvent.aggregate_id.in_(batch_ids))
            .group_by(OutboxEvent.aggregate_id)
        )
        completed = {aggregate_id: count for aggregate_id, count in rows}
        unpublished = session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.published_at.is_(None))
        )
        for batch_id in batch_ids:
            row = batches.get(batch_id)
            state[batch_id] = {
                "sql": None
                if row is None
                else {
                    "state": row.state,
                    "closed_as": row.closed_as,
                    "deadline": when(row.deadline_at),
                    "closed_at": when(row.closed_at),
                    "report_counts": (row.report or {}).get("counts"),
                    "completion_events_in_outbox": completed.get(batch_id, 0),
                },
                "submissions": {
                    sub.submission_id: {
                        "state": sub.state,
                        "essay_id": sub.essay_id,
                        "sha256": sub.content_hash,
                    }
                    for sub in submissions
                    if sub.batch_id == batch_id
                },
                "redis": redis_state(runtime.coordinator.status(batch_id)),
                "unpublished_outbox": unpublished,
            }
    return state


def redis_state(status: BatchStatus | None) -> Entry | None:
    """What Redis holds of a batch, as plain data."""
    if status is None:
        return None
    return {
        "state": status.state.value,
        "closed_as": status.closed_as.value if status.closed_as else None,
        "expected": status.expected,
        "assigned": status.assigned,
        "failed": status.failed,
        "excess": status.excess,
        "duplicates": status.duplicates,
        "deadline": status.deadline_ms / 1000,
        "closed_at": None if status.closed_ms is None else status.closed_ms / 1000,
        "missing": len(status.missing_essay_ids),
        "records": [
            {"essay_id": r.essay_id, "submission_id": r.submission_id, "outcome": r.outcome.value}
            for r in status.records
        ],
    }
