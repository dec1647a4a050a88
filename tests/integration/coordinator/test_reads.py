"""The coordinator's plain reads: the operations gauges (gauges.lua, parked arrivals) and intake's gate."""

from __future__ import annotations

import redis

from coordinator import BatchState, Coordinator
from tests.integration.coordinator.support import HOUR_MS, NOW, keys_of, register

HASH = "a" * 64


def test_live_figures_count_open_overdue_finishing_stuck_and_parked(
    coordinator: Coordinator, redis_client: redis.Redis, key_prefix: str
) -> None:
    grace = coordinator.config.late_grace_ms
    register(coordinator, "b-open", 2, deadline_ms=NOW + HOUR_MS)
    register(coordinator, "b-due", 2, deadline_ms=NOW + 1000, now_ms=NOW + 5)
    register(coordinator, "b-sealed", 1, now_ms=NOW + 10)
    assert coordinator.claim("b-sealed", "s-1", HASH, "{}", NOW + 20).sealed
    coordinator.claim("b-unknown", "s-2", HASH, "{}", NOW + 30)  # parked until b-unknown registers
    coordinator.claim("b-unknown", "s-3", "b" * 64, "{}", NOW + 30)
    keys_before = keys_of(redis_client, key_prefix)

    later = NOW + 1000 + grace + 1
    figures = coordinator.live_figures(later, stuck_after_ms=later - NOW - 20)
    assert (figures.open_batches, figures.overdue_batches) == (2, 1)
    assert figures.oldest_created_ms == NOW
    assert (figures.finishing_batches, figures.stuck_batches) == (1, 0)  # sealed exactly the cutoff ago
    assert figures.parked_arrivals == 2

    assert coordinator.live_figures(later, stuck_after_ms=1).stuck_batches == 1
    assert keys_of(redis_client, key_prefix) == keys_before  # nothing written, nothing expired


def test_live_figures_of_an_empty_deployment_are_zero(coordinator: Coordinator) -> None:
    figures = coordinator.live_figures(NOW, stuck_after_ms=1000)
    assert figures.open_batches == figures.finishing_batches == figures.stuck_batches == 0
    assert (figures.oldest_created_ms, figures.parked_arrivals) == (None, 0)


def test_the_gate_reads_owner_state_and_deadline_in_one_call(coordinator: Coordinator) -> None:
    register(coordinator, "b-gate", 1, owner="alice", deadline_ms=NOW + HOUR_MS)
    gate = coordinator.gate("b-gate")
    assert gate is not None
    assert (gate.owner, gate.state, gate.deadline_ms) == ("alice", BatchState.OPEN, NOW + HOUR_MS)
    coordinator.claim("b-gate", "s-1", HASH, "{}", NOW + 1)
    sealed = coordinator.gate("b-gate")
    assert sealed is not None and sealed.state is BatchState.SEALED
    assert coordinator.gate("b-never") is None
