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
    assert coordinator.claim("b-sealed", "s-1", HASH, NOW + 20).sealed
    coordinator.claim("b-unknown", "s-2", HASH, NOW + 30)  # parked until b-unknown registers
    coordinator.claim("b-unknown", "s-3", "b" * 64, NOW + 30)
    keys_before = keys_of(redis_client, key_prefix)

    later = NOW + 1000 + grace + 1
    figures = coordinator.live_figures(later, stuck_after_ms=later - NOW - 20)
    assert (figures.open_batches, figures.overdue_batches) == (2, 1)
    assert figures.oldest_created_ms == NOW
    assert (figures.finishing_batches, figures.stuck_batches) == (1, 0)  # sealed exactly the cutoff ago
    assert figures.parked_arrivals == 2

    assert coordinator.live_figures(later, stuck_after_ms=1).stuck_batches == 1
    assert keys_of(redis_client, key_prefix) == keys_before  # nothing written, nothing expired


def test_parked_arrivals_come_from_the_shard_index_and_leave_it_on_registration_or_lapse(
    coordinator: Coordinator, redis_client: redis.Redis
) -> None:
    ttl = coordinator.config.pending_ttl_ms
    coordinator.claim("b-late", "s-1", HASH, NOW)
    coordinator.claim("b-never", "s-2", HASH, NOW)
    assert coordinator.live_figures(NOW + 1, stuck_after_ms=1000).parked_arrivals == 2
    register(coordinator, "b-late", 2, now_ms=NOW + 2)  # replays its parked claim
    assert coordinator.live_figures(NOW + 3, stuck_after_ms=1000).parked_arrivals == 1
    # b-never's entries lapse with their TTL: no longer counted, and the next park drops the entry.
    assert coordinator.live_figures(NOW + ttl, stuck_after_ms=1000).parked_arrivals == 0
    keys = coordinator.config.keys
    index = keys.batch("b-never").shard.parked
    neighbour = next(f"b-{n}" for n in range(1000) if keys.batch(f"b-{n}").shard.parked == index)
    coordinator.claim(neighbour, "s-3", HASH, NOW + ttl + 1)
    members: object = redis_client.zrange(index, 0, -1)
    assert members == [neighbour.encode()]


def test_live_figures_of_an_empty_deployment_are_zero(coordinator: Coordinator) -> None:
    figures = coordinator.live_figures(NOW, stuck_after_ms=1000)
    assert figures.open_batches == figures.finishing_batches == figures.stuck_batches == 0
    assert (figures.oldest_created_ms, figures.parked_arrivals) == (None, 0)


def test_the_gate_reads_owner_state_and_deadline_and_judges_lateness_in_one_call(
    coordinator: Coordinator,
) -> None:
    register(coordinator, "b-gate", 1, owner="alice", deadline_ms=NOW + HOUR_MS)
    gate = coordinator.gate("b-gate", NOW)
    assert gate is not None
    assert (gate.owner, gate.state, gate.deadline_ms, gate.late) == (
        "alice",
        BatchState.OPEN,
        NOW + HOUR_MS,
        False,
    )
    due = coordinator.gate("b-gate", NOW + HOUR_MS)
    assert due is not None and due.late  # at the deadline: late, as receive.lua judges it
    coordinator.claim("b-gate", "s-1", HASH, NOW + 1)
    sealed = coordinator.gate("b-gate")
    assert sealed is not None and sealed.state is BatchState.SEALED
    assert coordinator.gate("b-never") is None


def test_progress_reads_state_and_counters_in_one_call_and_agrees_with_status(
    coordinator: Coordinator,
) -> None:
    register(coordinator, "b-progress", 3, owner="alice", deadline_ms=NOW + HOUR_MS)
    coordinator.claim("b-progress", "s-1", HASH, NOW + 1)
    coordinator.claim("b-progress", "s-2", HASH, NOW + 2)  # the same content: a duplicate
    coordinator.fail("b-progress", "s-3", "EMPTY_CONTENT", "no words", NOW + 3)
    progress = coordinator.progress("b-progress")
    status = coordinator.status("b-progress")
    assert progress is not None and status is not None
    assert (progress.owner, progress.state, progress.expected) == ("alice", BatchState.OPEN, 3)
    counted = (progress.assigned, progress.failed, progress.excess, progress.duplicates)
    assert counted == (status.assigned, status.failed, status.excess, status.duplicates) == (1, 1, 0, 1)
    assert progress.settled == 2
    assert coordinator.progress("nobody") is None


def test_progress_carries_the_times_and_the_close_the_status_answer_needs(coordinator: Coordinator) -> None:
    register(coordinator, "b-times", 2, owner="alice", deadline_ms=NOW + HOUR_MS, now_ms=NOW)
    opened = coordinator.progress("b-times")
    assert opened is not None
    assert (opened.deadline_ms, opened.created_ms) == (NOW + HOUR_MS, NOW)
    assert (opened.closed_as, opened.closed_ms, opened.correlation_id) == (None, None, "corr-b-times")
    coordinator.cancel("b-times", "alice", NOW + 50)
    cancelled = coordinator.progress("b-times")
    assert cancelled is not None
    assert (cancelled.state, cancelled.closed_as) == (BatchState.CANCELLED, BatchState.CANCELLED)
    assert cancelled.closed_ms == NOW + 50
