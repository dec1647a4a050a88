"""close.lua and cancel.lua: the owner ends an OPEN batch once; repeats answer the same result."""

from __future__ import annotations

import redis

from coordinator import BatchState, Coordinator, Outcome
from tests.integration.coordinator.support import NOW, register


def test_close_seals_now_naming_the_missing_slots_once(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 3, deadline_ms=NOW + 60_000)
    coordinator.claim("b1", "s1", "h1", NOW)
    first = coordinator.close("b1", "alice", NOW + 10)
    assert first.found and first.ended and not first.replayed
    assert first.missing_essay_ids == ("b1-002", "b1-003")
    again = coordinator.close("b1", "alice", NOW + 20)
    assert again.ended and again.replayed and again.missing_essay_ids == first.missing_essay_ids
    status = coordinator.status("b1")
    assert status is not None and status.state is BatchState.CLOSED
    assert status.closed_as is BatchState.CLOSED and status.closed_ms == NOW + 10
    late = coordinator.claim("b1", "s2", "h2", NOW + 30)
    assert late.outcome is Outcome.EXCESS and not late.sealed
    assert coordinator.expire_due(NOW + 120_000, 10) == []
    ticket = coordinator.begin_finalize("b1", NOW + 40, 60_000)
    assert ticket.acquired


def test_another_owner_is_answered_like_an_unknown_batch(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 2, deadline_ms=NOW + 60_000)
    for result in (coordinator.close("b1", "mallory", NOW), coordinator.cancel("b1", "mallory", NOW)):
        assert not result.found and not result.ended and result.state is None
    assert not coordinator.close("nope", "alice", NOW).found
    status = coordinator.status("b1")
    assert status is not None and status.state is BatchState.OPEN


def test_cancel_ends_the_batch_once_and_close_cannot_follow(
    coordinator: Coordinator, redis_client: redis.Redis
) -> None:
    register(coordinator, "b1", 2, deadline_ms=NOW + 60_000)
    first = coordinator.cancel("b1", "alice", NOW + 5)
    assert first.ended and not first.replayed and first.missing_essay_ids == ("b1-001", "b1-002")
    assert coordinator.cancel("b1", "alice", NOW + 6).replayed
    closing = coordinator.close("b1", "alice", NOW + 7)
    assert closing.found and not closing.ended and closing.state is BatchState.CANCELLED
    keys = coordinator.config.keys.batch("b1")
    assert redis_client.zscore(keys.shard.deadlines, "b1") is None
    assert redis_client.zscore(keys.shard.stuck, "b1") is not None  # re-kicked until DONE
    assert coordinator.claim("b1", "s1", "h1", NOW + 8).outcome is Outcome.EXCESS
    ticket = coordinator.begin_finalize("b1", NOW + 9, 60_000)
    assert ticket.acquired and ticket.token is not None
    assert coordinator.complete_finalize("b1", ticket.token, NOW + 10)
    done = coordinator.status("b1")
    assert done is not None and done.state is BatchState.DONE and done.closed_as is BatchState.CANCELLED
    assert redis_client.pttl(keys.hash) > 0
    assert coordinator.cancel("b1", "alice", NOW + 11).replayed


def test_a_sealed_batch_can_be_neither_closed_nor_cancelled(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 1, deadline_ms=NOW + 60_000)
    assert coordinator.claim("b1", "s1", "h1", NOW).sealed
    for result in (coordinator.close("b1", "alice", NOW), coordinator.cancel("b1", "alice", NOW)):
        assert result.found and not result.ended and result.state is BatchState.SEALED


def test_the_last_in_time_upload_settling_past_the_deadline_expires_the_batch(
    coordinator: Coordinator,
) -> None:
    register(coordinator, "b1", 3, deadline_ms=NOW + 1000)
    assert coordinator.receive("b1", ["s1"], NOW + 10).received
    assert coordinator.receive("b1", ["s2"], NOW + 20).received
    first = coordinator.claim("b1", "s1", "h1", NOW + 2000)
    assert first.outcome is Outcome.ASSIGNED and not first.sealed and first.state is BatchState.OPEN
    last = coordinator.claim("b1", "s2", "h1", NOW + 2001)  # a duplicate, the last in flight
    assert last.outcome is Outcome.DUPLICATE and last.sealed and last.state is BatchState.EXPIRED
    status = coordinator.status("b1")
    assert status is not None and status.missing_essay_ids == ("b1-002", "b1-003")


def test_an_in_time_claim_past_the_deadline_expires_when_nothing_else_is_in_flight(
    coordinator: Coordinator,
) -> None:
    register(coordinator, "b1", 2, deadline_ms=NOW + 1000)
    assert coordinator.receive("b1", ["s1"], NOW + 10).received
    result = coordinator.claim("b1", "s1", "h1", NOW + 1500)
    assert result.outcome is Outcome.ASSIGNED and result.sealed and result.state is BatchState.EXPIRED
    assert coordinator.claim("b1", "s1", "h1", NOW + 1600).replayed
