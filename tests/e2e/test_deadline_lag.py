"""Deadlines to the second: each batch expires within 2 s of its deadline, no sweep needed.

Registration schedules a countdown (`els.expire_due`, ETA at the deadline) on the control queue; no
beat runs here, so only the countdown can expire these batches. What is asserted is a count of late
batches, measured by ELS's own clocks (deadline and close time in Redis), never a timing of the test.
"""

from __future__ import annotations

import time

from celery.worker.worker import WorkController

from bootstrap import installed_runtime as get_runtime
from coordinator import BatchState
from tests.support.batches import register_batch

BATCHES = 12
LATE_MS = 2000


def test_batches_expire_within_two_seconds_of_their_deadline(els_worker: WorkController) -> None:
    runtime = get_runtime()
    batch_ids = [register_batch(runtime, 2, deadline_seconds=2 + n % 3) for n in range(BATCHES)]
    lags: dict[str, int] = {}
    give_up = time.monotonic() + 90
    while len(lags) < BATCHES and time.monotonic() < give_up:
        for batch_id in batch_ids:
            status = runtime.coordinator.status(batch_id)
            if batch_id not in lags and status is not None and status.closed_ms is not None:
                assert status.closed_as is BatchState.EXPIRED
                lags[batch_id] = status.closed_ms - status.deadline_ms
        time.sleep(0.2)
    assert len(lags) == BATCHES, f"only {len(lags)} of {BATCHES} batches expired: {lags}"
    late = [batch_id for batch_id, lag in lags.items() if lag > LATE_MS]
    assert len(late) == 0, {batch_id: lags[batch_id] for batch_id in late}
