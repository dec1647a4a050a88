"""A worker or API host whose clock runs 30 s ahead of the host that registered the batch: Redis's clock
judges deadlines and leases, so it closes nothing early and cuts no lease short.

Each test also pins the fast host's own time into the same step, to show that the host's clock alone
would have closed the batch or cut the lease short.
"""

from __future__ import annotations

import time

import pytest

from coordinator import BatchState, Outcome, now_ms
from els.ids import public_id
from services.intake import check_open_batch
from services.runtime import Runtime
from services.settle import settle
from services.sweep import sweep
from tests.integration.services.support import processed
from tests.support.batches import register_batch

SKEW_SECONDS = 30
DEADLINE_SECONDS = 20  # shorter than the skew: the fast host thinks the deadline has passed


def run_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, this process's wall clock (`time.time_ns`, `time.time`) runs 30 s ahead."""
    real_ns, real_s = time.time_ns, time.time
    monkeypatch.setattr(time, "time_ns", lambda: real_ns() + SKEW_SECONDS * 1_000_000_000)
    monkeypatch.setattr(time, "time", lambda: real_s() + SKEW_SECONDS)


def test_a_fast_host_neither_refuses_nor_expires_a_batch_before_its_deadline(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch_id = register_batch(runtime, 2, deadline_seconds=DEADLINE_SECONDS)
    run_fast(monkeypatch)
    owner = "teacher-1"
    check_open_batch(runtime, owner, public_id(batch_id))  # intake's gate: in time by Redis's clock
    assert sweep(runtime).expired == ()
    result = settle(runtime, processed(runtime, batch_id, 1))
    assert result.outcome is Outcome.ASSIGNED and not result.sealed
    live = runtime.coordinator.progress(batch_id)
    assert live is not None and live.state is BatchState.OPEN
    # The same sweep judged by the fast host's clock would have expired the batch 10 s early.
    assert sweep(runtime, now_ms()).expired == (batch_id,)


def test_a_fast_host_cannot_take_over_a_live_finalize_lease(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch_id = register_batch(runtime, 1)
    assert settle(runtime, processed(runtime, batch_id, 1)).sealed
    run_fast(monkeypatch)
    coordinator, lease_ms = runtime.coordinator, 10_000
    first = coordinator.begin_finalize(batch_id, None, lease_ms)
    assert first.acquired
    second = coordinator.begin_finalize(batch_id, None, lease_ms)
    assert not second.acquired and second.state is BatchState.FINALIZING
    # Judged by the fast host's clock, the 10 s lease would look 30 s old and be taken over.
    assert coordinator.begin_finalize(batch_id, now_ms(), lease_ms).taken_over
