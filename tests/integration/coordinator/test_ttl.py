"""Keys of a batch that has not reached DONE never expire; DONE alone starts the retention clock."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis

from coordinator import BatchState, Coordinator
from tests.integration.coordinator.support import HOUR_MS, NOW, batch_keys_of, register

LEASE = 60_000


def seal_by_claim(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 2)
    coordinator.claim("b1", "s1", "h1", NOW)
    assert coordinator.claim("b1", "s2", "h2", NOW).sealed


def seal_by_failure(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 2)
    coordinator.claim("b1", "s1", "h1", NOW)
    assert coordinator.fail("b1", "s2", "BAD", "x", NOW).sealed


def seal_by_registration_replay(coordinator: Coordinator) -> None:
    coordinator.claim("b1", "s1", "h1", NOW)
    coordinator.claim("b1", "s2", "h2", NOW)
    assert register(coordinator, "b1", 2).sealed


def expire_by_late_claim(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 2, deadline_ms=NOW + 10)
    assert coordinator.claim("b1", "s1", "h1", NOW + 10).state is BatchState.EXPIRED


def expire_by_sweep(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 2, deadline_ms=NOW + 10)
    coordinator.claim("b1", "s1", "h1", NOW)
    assert [batch.batch_id for batch in coordinator.expire_due(NOW + 10, 10)] == ["b1"]


def begin_finalizing(coordinator: Coordinator) -> None:
    seal_by_claim(coordinator)
    assert coordinator.begin_finalize("b1", NOW + 1, LEASE).acquired


def take_over_finalizing(coordinator: Coordinator) -> None:
    begin_finalizing(coordinator)
    assert coordinator.begin_finalize("b1", NOW + 2 * LEASE, LEASE).taken_over


CLOSINGS: dict[str, Callable[[Coordinator], None]] = {
    "sealed by a claim": seal_by_claim,
    "sealed by a failure": seal_by_failure,
    "sealed by the replay of parked claims": seal_by_registration_replay,
    "expired by a late claim": expire_by_late_claim,
    "expired by the sweep": expire_by_sweep,
    "finalizing": begin_finalizing,
    "finalizing after a takeover": take_over_finalizing,
}


@pytest.mark.parametrize("close", CLOSINGS.values(), ids=CLOSINGS.keys())
def test_no_key_of_a_closed_batch_expires_before_done(
    close: Callable[[Coordinator], None], coordinator: Coordinator, redis_client: redis.Redis, key_prefix: str
) -> None:
    close(coordinator)
    batch_keys = batch_keys_of(redis_client, key_prefix, "b1")
    assert len(batch_keys) == 1  # the batch hash: no key per essay
    for key in batch_keys:
        assert redis_client.pttl(key) == -1, key


def test_a_batch_finalizing_before_this_rule_gets_its_keys_kept(
    coordinator: Coordinator, redis_client: redis.Redis, key_prefix: str
) -> None:
    seal_by_claim(coordinator)
    for key in batch_keys_of(redis_client, key_prefix, "b1"):
        redis_client.pexpire(key, HOUR_MS)  # as a batch sealed under the old backstop TTL
    assert coordinator.begin_finalize("b1", NOW + 1, LEASE).acquired
    for key in batch_keys_of(redis_client, key_prefix, "b1"):
        assert redis_client.pttl(key) == -1, key


def test_done_starts_the_retention_ttl_on_every_key(
    coordinator: Coordinator, redis_client: redis.Redis, key_prefix: str
) -> None:
    begin_finalizing(coordinator)
    ticket = coordinator.begin_finalize("b1", NOW + 2 * LEASE, LEASE)
    assert ticket.token is not None and coordinator.complete_finalize("b1", ticket.token, NOW)
    retention = coordinator.config.retention_ms
    batch_keys = batch_keys_of(redis_client, key_prefix, "b1")
    assert len(batch_keys) == 1
    for key in batch_keys:
        assert 0 < redis_client.pttl(key) <= retention, key
