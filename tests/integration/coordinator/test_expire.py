"""expire.lua: OPEN -> EXPIRED exactly once, bounded by the limit and by a number of batches per call."""

from __future__ import annotations

from collections.abc import Sequence

import redis

from coordinator import BatchState, Coordinator, Outcome
from coordinator.config import CoordinatorConfig, config_from_settings
from coordinator.lua import ScriptName
from coordinator.replies import parse_expired
from els.settings import Settings
from tests.integration.coordinator.support import HOUR_MS, NOW, register


def test_batches_expire_only_once_their_deadline_has_passed(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 3, deadline_ms=NOW + 1000)
    coordinator.claim("b1", "s1", "h1", NOW)
    coordinator.fail("b1", "s2", "BAD", "x", NOW)
    assert coordinator.expire_due(NOW + 999, 10) == []
    (expired,) = coordinator.expire_due(NOW + 1000, 10)
    assert (expired.batch_id, expired.owner, expired.correlation_id) == ("b1", "alice", "corr-b1")
    assert (expired.expected, expired.assigned, expired.failed) == (3, 1, 1)
    assert coordinator.expire_due(NOW + 5000, 10) == []
    status = coordinator.status("b1")
    assert (
        status is not None and status.state is BatchState.EXPIRED and status.closed_as is BatchState.EXPIRED
    )
    assert status.missing_essay_ids == ("b1-003",)  # named when read, never listed by the expiry


def test_a_sealed_batch_never_expires(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 1, deadline_ms=NOW + 1000)
    assert coordinator.claim("b1", "s1", "h1", NOW).sealed
    assert coordinator.expire_due(NOW + 2000, 10) == []


def test_claims_after_expiry_are_excess(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 2, deadline_ms=NOW + 1000)
    coordinator.expire_due(NOW + 1000, 10)
    late = coordinator.claim("b1", "s1", "h1", NOW + 1001)
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


def batches_in_one_shard(coordinator: Coordinator, count: int) -> list[str]:
    """`count` batch ids that live in the same shard."""
    shard_of = {f"b{n}": coordinator.config.keys.batch(f"b{n}").shard.shard for n in range(400)}
    target = shard_of["b0"]
    return [batch_id for batch_id, shard in shard_of.items() if shard == target][:count]


def test_expiry_waits_for_uploads_received_in_time_until_they_settle(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 3, deadline_ms=NOW + 1000)
    coordinator.receive("b1", ["s1"], NOW)
    coordinator.receive("b1", ["s2"], NOW)
    assert coordinator.expire_due(NOW + 60_000, 10) == []
    assert coordinator.claim("b1", "s1", "h1", NOW + 61_000).outcome is Outcome.ASSIGNED
    assert coordinator.expire_due(NOW + 62_000, 10) == []  # s2 is still in flight
    # The last upload in flight settles past the deadline: the batch expires in that same step.
    last = coordinator.fail("b1", "s2", "BAD", "x", NOW + 63_000)
    assert (last.outcome, last.sealed, last.state) == (Outcome.FAILED, True, BatchState.EXPIRED)
    assert coordinator.expire_due(NOW + 64_000, 10) == []
    status = coordinator.status("b1")
    assert status is not None and (status.assigned, status.failed) == (1, 1)
    assert status.missing_essay_ids == ("b1-003",)


def test_expiry_waits_no_longer_than_the_late_grace(coordinator: Coordinator) -> None:
    grace = coordinator.config.late_grace_ms
    register(coordinator, "b1", 2, deadline_ms=NOW + 1000)
    coordinator.receive("b1", ["s1"], NOW)
    assert coordinator.expire_due(NOW + 1000 + grace - 1, 10) == []
    (expired,) = coordinator.expire_due(NOW + 1000 + grace, 10)
    status = coordinator.status(expired.batch_id)
    assert status is not None and status.missing_essay_ids == ("b1-001", "b1-002")
    # What arrives after the grace counts as it finds the batch: closed.
    late = coordinator.claim("b1", "s1", "h1", NOW + 1000 + grace + 1)
    assert (late.outcome, late.state) == (Outcome.EXCESS, BatchState.EXPIRED)


def test_a_batch_held_past_its_deadline_still_seals_when_its_last_slot_fills(
    coordinator: Coordinator,
) -> None:
    register(coordinator, "b1", 1, deadline_ms=NOW + 1000)
    coordinator.receive("b1", ["s1"], NOW)
    assert coordinator.expire_due(NOW + 5000, 10) == []
    last = coordinator.claim("b1", "s1", "h1", NOW + 6000)
    assert (last.outcome, last.sealed, last.state) == (Outcome.ASSIGNED, True, BatchState.SEALED)
    assert coordinator.expire_due(NOW + 7000, 10) == []


def test_the_expiry_walk_ends_when_every_due_entry_of_a_shard_is_held(coordinator: Coordinator) -> None:
    held = batches_in_one_shard(coordinator, 5)
    for batch_id in held:
        register(coordinator, batch_id, 1, deadline_ms=NOW + 1000)
        coordinator.receive(batch_id, ["s1"], NOW)
    assert coordinator.expire_due(NOW + 2000, 2) == []  # a limit below the held count: no spinning
    assert coordinator.expire_due(NOW + 2000, 50) == []


def test_held_entries_do_not_hide_a_due_batch_behind_them(coordinator: Coordinator) -> None:
    *held, free = batches_in_one_shard(coordinator, 4)
    for batch_id in held:
        register(coordinator, batch_id, 1, deadline_ms=NOW + 1000)
        coordinator.receive(batch_id, ["s1"], NOW)
    register(coordinator, free, 1, deadline_ms=NOW + 1500)  # due later than every held one
    assert [batch.batch_id for batch in coordinator.expire_due(NOW + 2000, 1)] == [free]


class CountingCoordinator(Coordinator):
    """The real coordinator, keeping the reply of each expire.lua call it makes."""

    def __init__(self, client: redis.Redis, config: CoordinatorConfig) -> None:
        super().__init__(client, config)
        self.expiry_replies: list[object] = []

    def _run(self, script: ScriptName, keys: Sequence[str], args: Sequence[str | int]) -> object:
        reply = super()._run(script, keys, args)
        if script is ScriptName.EXPIRE:
            self.expiry_replies.append(reply)
        return reply


def test_one_expiry_call_looks_at_most_at_its_batches_per_call_and_the_walk_goes_on(
    redis_client: redis.Redis, settings: Settings
) -> None:
    small = CountingCoordinator(
        redis_client,
        config_from_settings(settings.model_copy(update={"expire_batches_per_call": 2, "shards": 1})),
    )
    for number in range(5):
        register(small, f"big-{number}", 3, deadline_ms=NOW + 1000)
    expired = small.expire_due(NOW + 1000, 100)
    assert sorted(batch.batch_id for batch in expired) == [f"big-{n}" for n in range(5)]
    # Three calls of at most two batches each; the last one, short of two, ends the shard's walk.
    assert [len(parse_expired(reply)[2]) for reply in small.expiry_replies] == [2, 2, 1]
