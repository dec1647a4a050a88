"""Redis goes away in the middle of a run: killed and restarted at once, or down for a few seconds.

Redis runs as docker-compose.yml runs it (append-only file, fsync every second), so the restart replays
the batch state and the queued and unacknowledged messages. Workers and the test process reconnect, or a
worker exits on the broken connection and is started again as its supervisor would; tasks that hit the
outage retry, and whatever message the outage cost is recovered by the broker's redelivery or the sweep.
The end state is checked as strictly as after the chaos run.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from cli.embedded_redis import RedisServer
from els.settings import Settings
from services.runtime import Runtime
from tests.chaos.scenario import (
    Workload,
    bind_event_queue,
    check_end_state,
    consume_events,
    drain_outbox,
    drive,
    plan_workload,
    statuses,
)
from tests.support.workers import WorkerFleet


@dataclass
class RedisOutage:
    """Kills Redis once, as soon as `due()` says so, and starts it again `down_for` seconds later."""

    server: RedisServer
    due: Callable[[], bool]
    down_for: float
    at: float | None = None

    def __call__(self, elapsed: float) -> None:
        if self.at is not None or not self.due():
            return
        self.at = elapsed
        self.server.kill()
        time.sleep(self.down_for)
        self.server.start()


def slots_taken(runtime: Runtime, workload: Workload) -> int:
    """Slots assigned or failed so far over the workload's batches."""
    found = statuses(runtime, workload.expected).values()
    return sum(status.assigned + status.failed for status in found if status is not None)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("down_for", [0.0, 5.0], ids=["restart", "outage-5s"])
def test_redis_restart_or_outage_mid_run_loses_nothing(
    chaos_runtime: Runtime,
    chaos_settings: Settings,
    chaos_redis: RedisServer,
    chaos_seed: int,
    tmp_path: Path,
    down_for: float,
) -> None:
    url = chaos_settings.celery_broker_url
    events = bind_event_queue(url, chaos_settings.events_exchange, f"fault-events-{uuid.uuid4().hex[:8]}")
    workload = plan_workload(
        chaos_runtime, chaos_seed, batches=4, uploads_per_batch=60, expiring=1, expiring_deadline_seconds=15
    )
    # In the thick of it: once a quarter of the slots are taken, so every kind of task is in flight.
    quarter = sum(workload.expected.values()) // 4
    outage = RedisOutage(chaos_redis, lambda: slots_taken(chaos_runtime, workload) >= quarter, down_for)
    started = time.monotonic()
    restarted = 0
    with WorkerFleet(chaos_settings, tmp_path, size=2, concurrency=2) as fleet:

        def tick(elapsed: float) -> None:
            nonlocal restarted
            outage(elapsed)
            # A worker may exit on the broken connection (Celery's "Unrecoverable error"); its supervisor
            # starts it again, as compose does for the worker service.
            restarted += fleet.restart_exited()

        try:
            driven = drive(chaos_runtime, workload, tick, timeout=300.0)
        except AssertionError as error:
            raise AssertionError(f"{error}\n{fleet.log_tails()}") from error
    elapsed = time.monotonic() - started
    assert outage.at is not None
    drain_outbox(chaos_runtime)
    end = check_end_state(chaos_runtime, workload, driven.submissions, consume_events(url, events))
    assert end.uploads == len(workload.uploads)
    print(
        json.dumps(
            {
                "seed": chaos_seed,
                "down_for": down_for,
                "outage_at": round(outage.at, 1),
                "workers_restarted": restarted,
                "seconds": round(elapsed, 1),
                "resubmitted_by_sweep": driven.resubmitted,
                **end.as_dict(),
            }
        )
    )
