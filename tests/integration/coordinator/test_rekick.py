"""rekick.lua: batches stuck after sealing are handed out once per period, never twice at once."""

from __future__ import annotations

import itertools

import redis

from coordinator import BatchState, Coordinator, StuckBatch
from tests.integration.coordinator.support import NOW, register

STUCK = 300_000


def test_batches_sealed_longer_than_the_threshold_are_handed_out(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 1)
    coordinator.claim("b1", "s1", "h1", NOW)
    register(coordinator, "b2", 1)  # open: never stuck
    assert coordinator.rekick_stuck(NOW + STUCK, STUCK, 10) == []
    (stuck,) = coordinator.rekick_stuck(NOW + STUCK + 1, STUCK, 10)
    assert (stuck.batch_id, stuck.state) == ("b1", BatchState.SEALED)


def test_a_rekicked_batch_is_not_handed_out_again_within_the_period(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 1)
    coordinator.claim("b1", "s1", "h1", NOW)
    later = NOW + STUCK + 1
    assert len(coordinator.rekick_stuck(later, STUCK, 10)) == 1
    assert coordinator.rekick_stuck(later, STUCK, 10) == []  # a concurrent second sweep
    assert len(coordinator.rekick_stuck(later + STUCK + 1, STUCK, 10)) == 1


def test_re_kicks_of_one_batch_back_off_so_a_slow_queue_gets_no_pile_of_copies(
    coordinator: Coordinator,
) -> None:
    register(coordinator, "b1", 1)
    coordinator.claim("b1", "s1", "h1", NOW)
    at, kicks = NOW + STUCK + 1, []
    for _ in range(400):  # 400 sweeps, one a tenth of a period apart: forty periods
        if coordinator.rekick_stuck(at, STUCK, 10):
            kicks.append((at - NOW) // STUCK)
        at += STUCK // 10
    # The waits double (1, 2, 4, then 8 periods) instead of one re-kick in every period.
    gaps = [later - earlier for earlier, later in itertools.pairwise(kicks)]
    assert gaps[:3] == [1, 2, 4] and set(gaps[3:]) == {8}, kicks


def test_expired_and_finalizing_batches_are_rekicked_and_done_ones_are_not(coordinator: Coordinator) -> None:
    register(coordinator, "expired", 1, deadline_ms=NOW + 1)
    coordinator.expire_due(NOW + 1, 10)
    register(coordinator, "finalizing", 1)
    coordinator.claim("finalizing", "s1", "h1", NOW)
    coordinator.begin_finalize("finalizing", NOW, 60_000)
    register(coordinator, "done", 1)
    coordinator.claim("done", "s1", "h1", NOW)
    ticket = coordinator.begin_finalize("done", NOW, 60_000)
    assert ticket.token is not None and coordinator.complete_finalize("done", ticket.token, NOW)
    stuck = coordinator.rekick_stuck(NOW + STUCK + 2, STUCK, 10)
    assert sorted((s.batch_id, s.state) for s in stuck) == [
        ("expired", BatchState.EXPIRED),
        ("finalizing", BatchState.FINALIZING),
    ]


def test_rekick_honours_its_limit_across_shards(coordinator: Coordinator) -> None:
    for n in range(12):
        register(coordinator, f"b{n}", 1)
        coordinator.claim(f"b{n}", "s1", "h1", NOW)
    later = NOW + STUCK + 1
    first = coordinator.rekick_stuck(later, STUCK, 5)
    second = coordinator.rekick_stuck(later, STUCK, 5)
    third = coordinator.rekick_stuck(later, STUCK, 5)
    assert (len(first), len(second), len(third)) == (5, 5, 2)
    assert len({s.batch_id for s in first + second + third}) == 12


def test_a_stuck_batch_whose_keys_vanished_is_reported_once(
    coordinator: Coordinator, redis_client: redis.Redis
) -> None:
    register(coordinator, "b1", 1)
    coordinator.claim("b1", "s1", "h1", NOW)
    redis_client.delete(coordinator.config.keys.batch("b1").hash)  # evicted, or deleted by hand
    later = NOW + STUCK + 1
    assert coordinator.rekick_stuck(later, STUCK, 10) == [StuckBatch("b1", None, vanished=True)]
    assert coordinator.rekick_stuck(later + STUCK + 1, STUCK, 10) == []  # reported, then dropped


def test_one_completion_turn_per_hold_so_duplicate_settles_queue_the_analyses_once(
    coordinator: Coordinator, redis_client: redis.Redis
) -> None:
    register(coordinator, "b1", 1)
    assert coordinator.take_completion_turn("b1", 60_000)
    assert not coordinator.take_completion_turn("b1", 60_000)  # a replayed settle asks again: no
    key = coordinator.config.keys.batch("b1").completion_turn
    ttl: object = redis_client.pttl(key)
    assert isinstance(ttl, int) and 0 < ttl <= 60_000  # the turn always lapses
    redis_client.delete(key)
    assert coordinator.take_completion_turn("b1", 60_000)
