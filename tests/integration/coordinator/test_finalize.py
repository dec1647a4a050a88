"""begin_finalize.lua / complete_finalize.lua: one finalizer, lease takeover, DONE with TTLs everywhere."""

from __future__ import annotations

import redis

from coordinator import BatchState, Coordinator, Outcome
from tests.integration.coordinator.support import NOW, batch_keys_of, register

LEASE = 60_000


def sealed_batch(coordinator: Coordinator, batch_id: str = "b1") -> None:
    register(coordinator, batch_id, 1)
    assert coordinator.claim(batch_id, "s1", "h1", NOW).sealed


def test_only_one_caller_begins_finalizing(coordinator: Coordinator) -> None:
    sealed_batch(coordinator)
    first = coordinator.begin_finalize("b1", NOW + 1, LEASE)
    second = coordinator.begin_finalize("b1", NOW + 2, LEASE)
    assert first.acquired and first.token is not None and first.state is BatchState.FINALIZING
    assert not second.acquired and second.token is None and second.state is BatchState.FINALIZING


def test_an_open_or_unknown_batch_cannot_be_finalized(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 2)
    open_ticket = coordinator.begin_finalize("b1", NOW, LEASE)
    assert not open_ticket.acquired and open_ticket.state is BatchState.OPEN
    unknown = coordinator.begin_finalize("nobody", NOW, LEASE)
    assert not unknown.acquired and unknown.state is None


def test_an_expired_batch_is_finalized_like_a_sealed_one(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 2, deadline_ms=NOW + 10)
    coordinator.expire_due(NOW + 10, 5)
    ticket = coordinator.begin_finalize("b1", NOW + 11, LEASE)
    assert ticket.acquired and ticket.token is not None
    assert coordinator.complete_finalize("b1", ticket.token, NOW + 12)


def test_a_dead_finalizer_is_taken_over_after_its_lease(coordinator: Coordinator) -> None:
    sealed_batch(coordinator)
    dead = coordinator.begin_finalize("b1", NOW, LEASE)
    assert not coordinator.begin_finalize("b1", NOW + LEASE, LEASE).acquired
    heir = coordinator.begin_finalize("b1", NOW + LEASE + 1, LEASE)
    assert heir.acquired and heir.taken_over and heir.token != dead.token
    assert dead.token is not None and heir.token is not None
    assert not coordinator.complete_finalize("b1", dead.token, NOW + LEASE + 2)
    assert coordinator.complete_finalize("b1", heir.token, NOW + LEASE + 3)


def test_completing_twice_finishes_once(coordinator: Coordinator) -> None:
    sealed_batch(coordinator)
    ticket = coordinator.begin_finalize("b1", NOW, LEASE)
    assert ticket.token is not None
    assert coordinator.complete_finalize("b1", ticket.token, NOW + 1)
    assert not coordinator.complete_finalize("b1", ticket.token, NOW + 2)
    status = coordinator.status("b1")
    assert status is not None and status.state is BatchState.DONE
    assert not coordinator.begin_finalize("b1", NOW + 10 * LEASE, LEASE).acquired


def test_done_gives_every_key_of_the_batch_the_retention_ttl_and_leaves_the_indexes(
    coordinator: Coordinator, redis_client: redis.Redis, key_prefix: str
) -> None:
    register(coordinator, "b1", 3, essay_ids=None)
    coordinator.claim("b1", "s1", "h1", NOW)
    coordinator.fail("b1", "s2", "BAD", "x", NOW)
    coordinator.claim("b1", "s3", "h3", NOW)
    ticket = coordinator.begin_finalize("b1", NOW, LEASE)
    assert ticket.token is not None and coordinator.complete_finalize("b1", ticket.token, NOW)
    retention = coordinator.config.retention_ms
    batch_keys = batch_keys_of(redis_client, key_prefix, "b1")
    assert len(batch_keys) == 1  # the batch hash: no key per essay
    for key in batch_keys:
        assert retention - 60_000 < redis_client.pttl(key) <= retention, key
    shard = coordinator.config.keys.batch("b1").shard
    for index in (shard.deadlines, shard.active, shard.owners, shard.stuck):
        assert redis_client.zcard(index) == 0, index
    # A late arrival after DONE is still answered, and recorded in the same expiring hash.
    assert coordinator.claim("b1", "s9", "h9", NOW).outcome is Outcome.EXCESS
    assert redis_client.pttl(coordinator.config.keys.batch("b1").hash) <= retention
