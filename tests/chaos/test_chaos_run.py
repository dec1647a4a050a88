"""The chaos run: real prefork workers SIGKILLed at seeded moments while 10 batches fill up.

About 1,000 uploads (essays, exact re-uploads, invalid files, more essays than slots, three uploads whose
processing raises and one that kills its pool child) go to two worker processes that lose pool children and
whole process groups throughout; the test process sweeps like beat.
Afterwards every promise is checked (see `scenario.check_end_state`). Replay a failure with the printed
seed: `ELS_CHAOS_SEED=<seed> uv run pytest tests/chaos/test_chaos_run.py -s`. It runs once with Redis as
the broker and once with RabbitMQ (quorum queues, publisher confirms); `ELS_CHAOS_BROKERS=redis` picks
one. `ELS_CHAOS_BATCHES` and `ELS_CHAOS_UPLOADS_PER_BATCH` scale the run (defaults 10 and 100).
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from pathlib import Path

import pytest

from els.settings import Settings
from services.runtime import Runtime
from tests.chaos.scenario import (
    ChaosMonkey,
    bind_event_queue,
    check_end_state,
    consume_events,
    drain_outbox,
    drive,
    plan_workload,
)
from tests.support.workers import FAULTY_APP, WorkerFleet

# Both brokers by default; `ELS_CHAOS_BROKERS=redis` (or `rabbitmq`) runs the scenario on one.
BROKERS = os.environ.get("ELS_CHAOS_BROKERS", "redis,rabbitmq").split(",")


@pytest.mark.timeout(600)
@pytest.mark.parametrize("chaos_broker", BROKERS, indirect=True)
def test_killed_workers_lose_nothing_and_every_batch_completes_once(
    chaos_runtime: Runtime, chaos_settings: Settings, chaos_seed: int, chaos_broker: str, tmp_path: Path
) -> None:
    batches = int(os.environ.get("ELS_CHAOS_BATCHES", "10"))
    per_batch = int(os.environ.get("ELS_CHAOS_UPLOADS_PER_BATCH", "100"))
    url = chaos_settings.celery_broker_url
    events = bind_event_queue(url, chaos_settings.events_exchange, f"chaos-events-{uuid.uuid4().hex[:8]}")
    workload = plan_workload(
        chaos_runtime, chaos_seed, batches=batches, uploads_per_batch=per_batch, faults=True
    )
    started = time.monotonic()
    with WorkerFleet(chaos_settings, tmp_path, size=2, concurrency=2, app_module=FAULTY_APP) as fleet:
        monkey = ChaosMonkey(fleet, random.Random(chaos_seed + 1), until=60.0, whole_worker_until=45.0)
        try:
            driven = drive(chaos_runtime, workload, monkey, timeout=420.0)
        except AssertionError as error:
            raise AssertionError(f"{error}\n{fleet.log_tails()}") from error
        elapsed = time.monotonic() - started
    drain_outbox(chaos_runtime)
    end = check_end_state(chaos_runtime, workload, driven.submissions, consume_events(url, events))

    kinds = workload.kinds()
    assert end.uploads == len(workload.uploads)
    assert end.duplicates > 0 and end.excess > 0 and end.failed > 0 and end.expired == 2
    assert end.faults_failed + end.faults_late == kinds["fault"]
    assert monkey.children_killed > 0 and monkey.workers_killed > 0
    summary = {
        "seed": chaos_seed,
        "broker": chaos_broker,
        "seconds": round(elapsed, 1),
        "uploads_per_second": round(end.uploads / elapsed, 1),
        "children_killed": monkey.children_killed,
        "workers_killed": monkey.workers_killed,
        "resubmitted_by_sweep": driven.resubmitted,
        "planned": dict(kinds),
        **end.as_dict(),
    }
    print(json.dumps(summary))
