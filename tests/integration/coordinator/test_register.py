"""register.lua: creation, replay, conflict, essay id collisions, replay of parked outcomes, backstop TTLs."""

from __future__ import annotations

import pytest
import redis

from coordinator import (
    BatchConflictError,
    BatchState,
    Coordinator,
    Outcome,
    registration_fingerprint,
)
from els.settings import Settings
from tests.integration.coordinator.support import HOUR_MS, NOW, batch_keys_of, register


def test_count_registration_creates_an_open_batch_with_generated_ordered_slots(
    coordinator: Coordinator,
) -> None:
    result = register(coordinator, "b1", 3)
    assert result.created and not result.sealed and result.state is BatchState.OPEN
    status = coordinator.status("b1")
    assert status is not None
    assert status.slots == ("b1-001", "b1-002", "b1-003")
    assert status.missing_essay_ids == status.slots
    assert (status.expected, status.assigned, status.failed, status.excess) == (3, 0, 0, 0)
    assert status.owner == "alice" and status.correlation_id == "corr-b1"
    assert status.created_ms == NOW and status.deadline_ms == NOW + HOUR_MS


def test_explicit_essay_ids_keep_their_order(coordinator: Coordinator) -> None:
    register(coordinator, "b1", essay_ids=["zeta", "alpha", "mid"])
    status = coordinator.status("b1")
    assert status is not None and status.slots == ("zeta", "alpha", "mid")


def test_same_fingerprint_is_a_no_op_replay(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 2)
    coordinator.claim("b1", "s1", "h1", NOW)
    replay = register(coordinator, "b1", 2, now_ms=NOW + 5000, deadline_ms=NOW + 5000 + HOUR_MS)
    assert not replay.created and not replay.sealed and replay.pending_replayed == 0
    status = coordinator.status("b1")
    assert status is not None and status.assigned == 1 and status.created_ms == NOW


def test_same_id_with_another_request_is_a_conflict(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 2)
    with pytest.raises(BatchConflictError) as raised:
        register(coordinator, "b1", 3)
    assert raised.value.code == "BATCH_CONFLICT"
    with pytest.raises(BatchConflictError):
        register(coordinator, "b1", 2, owner="mallory")


def test_a_batch_keeps_three_short_fields_per_claimed_slot_and_none_per_slot_by_count(
    coordinator: Coordinator, redis_client: redis.Redis
) -> None:
    register(coordinator, "b1", 50)
    hash_key = coordinator.config.keys.batch("b1").hash

    def text(value: bytes | str) -> str:
        return value.decode() if isinstance(value, bytes) else value

    def fields() -> dict[str, str]:
        return {text(name): text(value) for name, value in redis_client.hgetall(hash_key).items()}

    meta = fields()
    assert not any(name.startswith("i:") for name in meta)
    for n in range(10):
        coordinator.claim("b1", f"s-{n:032x}", f"sha256:{n:064x}", NOW)
    claimed = fields()
    assert (
        len(claimed) == len(meta) + 3 * 10
    )  # the slot's record, the submission's outcome, the content's slot
    assert (claimed["0"], claimed[f"s:s-{0:032x}"]) == (f"a|s-{0:032x}|{NOW}", "0")
    assert max(len(name) for name in claimed if name.startswith("h:")) == 24


def test_explicit_essay_ids_are_kept_in_slot_order(coordinator: Coordinator) -> None:
    register(coordinator, "b1", essay_ids=["e2", "e1", "e3"])
    first = coordinator.claim("b1", "s1", "h1", NOW)
    assert (first.essay_id, first.slot) == ("e2", 0)
    status = coordinator.status("b1")
    assert status is not None and status.slots == ("e2", "e1", "e3")
    assert status.missing_essay_ids == ("e1", "e3")


def test_parked_claims_and_failures_are_replayed_in_arrival_order(coordinator: Coordinator) -> None:
    first = coordinator.claim("b1", "s1", "h1", NOW)
    failed = coordinator.fail("b1", "s2", "UNREADABLE", "no text", NOW + 1)
    duplicate = coordinator.claim("b1", "s3", "h1", NOW + 2)
    assert {first.outcome, failed.outcome, duplicate.outcome} == {Outcome.PENDING}
    result = register(coordinator, "b1", 3)
    assert result.pending_replayed == 3 and not result.sealed
    status = coordinator.status("b1")
    assert status is not None
    assert [(r.essay_id, r.submission_id, r.outcome) for r in status.records] == [
        ("b1-001", "s1", Outcome.ASSIGNED),
        ("b1-002", "s2", Outcome.FAILED),
    ]
    assert status.records[0].at_ms == NOW and status.records[1].code == "UNREADABLE"
    assert status.duplicates == 1 and status.missing_essay_ids == ("b1-003",)
    # The parked submissions now replay their settled outcomes.
    again = coordinator.claim("b1", "s3", "h1", NOW + 10)
    assert again.replayed and again.outcome is Outcome.DUPLICATE and again.essay_id == "b1-001"


def test_registration_that_fills_every_slot_from_parked_claims_reports_sealed(
    coordinator: Coordinator,
) -> None:
    for n in range(3):
        coordinator.claim("b1", f"s{n}", f"h{n}", NOW)
    result = register(coordinator, "b1", 2)
    assert result.sealed and result.state is BatchState.SEALED and result.pending_replayed == 3
    status = coordinator.status("b1")
    assert status is not None and (status.assigned, status.excess) == (2, 1)
    assert not register(coordinator, "b1", 2).sealed


def test_a_redelivered_parked_claim_is_parked_once(coordinator: Coordinator) -> None:
    coordinator.claim("b1", "s1", "h1", NOW)
    again = coordinator.claim("b1", "s1", "h1", NOW)
    assert again.outcome is Outcome.PENDING and again.replayed
    assert register(coordinator, "b1", 2).pending_replayed == 1


def test_parking_for_an_unknown_batch_is_bounded(redis_client: redis.Redis, settings: Settings) -> None:
    small = Coordinator.from_settings(settings.model_copy(update={"max_expected_essays": 2}), redis_client)
    outcomes = [small.claim("b1", f"s{n}", f"h{n}", NOW).outcome for n in range(5)]
    assert outcomes == [Outcome.PENDING] * 4 + [Outcome.PENDING_FULL]


def test_every_key_written_by_registration_carries_the_backstop_ttl(
    coordinator: Coordinator, redis_client: redis.Redis, key_prefix: str
) -> None:
    coordinator.claim("b1", "s1", "h1", NOW)
    register(coordinator, "b1", 3, deadline_ms=NOW + HOUR_MS)
    backstop_ms = HOUR_MS + coordinator.config.retention_ms
    batch_keys = batch_keys_of(redis_client, key_prefix, "b1")
    assert len(batch_keys) == 1  # the batch hash (no key per essay); pending is gone
    for key in batch_keys:
        ttl = redis_client.pttl(key)
        assert backstop_ms - 60_000 < ttl <= backstop_ms, key


def test_registration_lands_in_the_shard_indexes(coordinator: Coordinator, redis_client: redis.Redis) -> None:
    register(coordinator, "b1", 1)
    shard = coordinator.config.keys.batch("b1").shard
    assert redis_client.zscore(shard.deadlines, "b1") == NOW + HOUR_MS
    assert redis_client.zcard(shard.active) == 1 and redis_client.zcard(shard.owners) == 1


def test_fingerprint_ignores_metadata_key_order_but_not_content() -> None:
    base = registration_fingerprint("alice", 3, 60, '{"a": 1, "b": 2}')
    assert base == registration_fingerprint("alice", 3, 60, '{"b":2,"a":1}')
    assert base != registration_fingerprint("alice", 3, 60, '{"a": 1, "b": 3}')
    assert base != registration_fingerprint("alice", ["x", "y", "z"], 60, '{"a": 1, "b": 2}')
