"""expire.lua: OPEN -> EXPIRED exactly once, bounded by the limit, with the slots nobody consumed."""

from __future__ import annotations

import redis

from coordinator import BatchState, Coordinator, Outcome
from tests.integration.coordinator.support import HOUR_MS, NOW, register


def test_batches_expire_only_once_their_deadline_has_passed(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 3, deadline_ms=NOW + 1000)
    coordinator.claim("b1", "s1", "h1", "{}", NOW)
    coordinator.fail("b1", "s2", "BAD", "x", NOW)
    assert coordinator.expire_due(NOW + 999, 10) == []
    (expired,) = coordinator.expire_due(NOW + 1000, 10)
    assert (expired.batch_id, expired.owner, expired.correlation_id) == ("b1", "alice", "corr-b1")
    assert (expired.expected, expired.assigned, expired.failed) == (3, 1, 1)
    assert expired.missing_essay_ids == ("b1-003",)
    assert coordinator.expire_due(NOW + 5000, 10) == []
    status = coordinator.status("b1")
    assert (
        status is not None and status.state is BatchState.EXPIRED and status.closed_as is BatchState.EXPIRED
    )


def test_a_sealed_batch_never_expires(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 1, deadline_ms=NOW + 1000)
    assert coordinator.claim("b1", "s1", "h1", "{}", NOW).sealed
    assert coordinator.expire_due(NOW + 2000, 10) == []


def test_claims_after_expiry_are_excess(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 2, deadline_ms=NOW + 1000)
    coordinator.expire_due(NOW + 1000, 10)
    late = coordinator.claim("b1", "s1", "h1", "{}", NOW + 1001)
    assert late.outcome is Outcome.EXCESS and not late.sealed and late.state is BatchState.EXPIRED


def test_expiry_walks_every_shard_and_stops_at_the_limit(coordinator: Coordinator) -> None:
    ids = [f"b{n}" for n in range(40)]
    shards = {coordinator.config.keys.batch(batch_id).shard.shard for batch_id in ids}
    assert len(shards) > 5  # the batches really spread over shards
    for batch_id in ids:
        register(coordinator, batch_id, 1, deadline_ms=NOW + 1000)
    first = coordinator.expire_due(NOW + 2000, 15)
    second = coordinator.expire_due(NOW + 2000, 15)
    third = coordinator.expire_due(NOW + 2000, 15)
    assert (len(first), len(second), len(third)) == (15, 15, 10)
    assert sorted(b.batch_id for b in first + second + third) == sorted(ids)


def test_index_entries_of_vanished_batches_are_dropped(
    coordinator: Coordinator, redis_client: redis.Redis
) -> None:
    register(coordinator, "b1", 1, deadline_ms=NOW + 1000)
    keys = coordinator.config.keys.batch("b1")
    redis_client.delete(keys.hash)  # as if its backstop TTL had run out
    assert coordinator.expire_due(NOW + HOUR_MS, 10) == []
    assert redis_client.zcard(keys.shard.deadlines) == 0
