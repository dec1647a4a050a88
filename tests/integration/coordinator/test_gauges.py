"""gauges.lua and the parked-arrivals count: the figures the operations gauges show, read without writing."""

from __future__ import annotations

import redis

from coordinator import Coordinator
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
