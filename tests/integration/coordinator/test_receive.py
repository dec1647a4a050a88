"""receive.lua and the deadline judged at receipt: an upload received in time keeps its right to a slot."""

from __future__ import annotations

import pytest
import redis

from coordinator import BatchState, Coordinator, Outcome
from els.errors import InvalidInputError
from tests.integration.coordinator.support import NOW, register

DEADLINE = NOW + 1000
LATER = DEADLINE + 60_000  # well past the deadline, well within the late grace


def inflight(client: redis.Redis, coordinator: Coordinator, batch_id: str) -> int:
    raw = client.hget(coordinator.config.keys.batch(batch_id).hash, "inflight")
    return 0 if raw is None else int(raw)


def test_an_upload_received_before_the_deadline_takes_a_slot_when_claimed_after_it(
    coordinator: Coordinator,
) -> None:
    register(coordinator, "b1", 2, deadline_ms=DEADLINE)
    assert coordinator.receive("b1", ["s1"], NOW + 10).received
    assert coordinator.receive("b1", ["s2"], NOW + 20).received
    first = coordinator.claim("b1", "s1", "h1", LATER)
    assert (first.outcome, first.essay_id, first.sealed, first.state) == (
        Outcome.ASSIGNED,
        "b1-001",
        False,
        BatchState.OPEN,
    )
    last = coordinator.fail("b1", "s2", "BAD", "x", LATER + 1)  # a failure takes its slot alike
    assert (last.outcome, last.essay_id, last.sealed, last.state) == (
        Outcome.FAILED,
        "b1-002",
        True,
        BatchState.SEALED,
    )
    status = coordinator.status("b1")
    assert status is not None and status.closed_as is BatchState.SEALED
    assert (status.assigned, status.failed, status.excess, status.missing_essay_ids) == (1, 1, 0, ())


def test_a_claim_never_received_after_the_deadline_still_expires_the_batch(
    coordinator: Coordinator, redis_client: redis.Redis
) -> None:
    register(coordinator, "b1", 3, deadline_ms=DEADLINE)
    assert inflight(redis_client, coordinator, "b1") == 0
    unreceived = coordinator.claim("b1", "s2", "h2", LATER)
    assert (unreceived.outcome, unreceived.sealed, unreceived.state) == (
        Outcome.EXCESS,
        True,
        BatchState.EXPIRED,
    )
    status = coordinator.status("b1")
    assert status is not None and (status.assigned, status.excess) == (0, 1)


def test_the_last_received_upload_settling_after_the_deadline_expires_the_batch(
    coordinator: Coordinator, redis_client: redis.Redis
) -> None:
    register(coordinator, "b1", 3, deadline_ms=DEADLINE)
    coordinator.receive("b1", ["s1"], NOW)
    last = coordinator.claim("b1", "s1", "h1", LATER)
    assert (last.outcome, last.sealed, last.state) == (Outcome.ASSIGNED, True, BatchState.EXPIRED)
    assert inflight(redis_client, coordinator, "b1") == 0
    after = coordinator.claim("b1", "s2", "h2", LATER)
    assert (after.outcome, after.sealed, after.state) == (Outcome.EXCESS, False, BatchState.EXPIRED)


def test_a_claim_never_received_waits_its_turn_while_received_uploads_are_in_flight(
    coordinator: Coordinator,
) -> None:
    register(coordinator, "b1", 2, deadline_ms=DEADLINE)
    coordinator.receive("b1", ["s1"], NOW)
    stray = coordinator.claim("b1", "s2", "h2", LATER)
    # Excess (it was never received in time), but it does not close the batch on s1.
    assert (stray.outcome, stray.sealed, stray.state) == (Outcome.EXCESS, False, BatchState.OPEN)
    held = coordinator.claim("b1", "s1", "h1", LATER + 1)
    # s1 was the last upload in flight: it takes its slot, and the batch expires in the same step.
    assert (held.outcome, held.essay_id, held.state) == (Outcome.ASSIGNED, "b1-001", BatchState.EXPIRED)


def test_receive_at_or_after_the_deadline_is_refused_and_records_nothing(
    coordinator: Coordinator, redis_client: redis.Redis
) -> None:
    register(coordinator, "b1", 2, deadline_ms=DEADLINE)
    late = coordinator.receive("b1", ["s1"], DEADLINE)
    assert (late.received, late.refusal, late.state, late.deadline_ms) == (
        False,
        "late",
        BatchState.OPEN,
        DEADLINE,
    )
    assert inflight(redis_client, coordinator, "b1") == 0
    assert coordinator.expire_due(DEADLINE, 10)[0].batch_id == "b1"  # nothing holds it
    closed = coordinator.receive("b1", ["s2"], NOW)
    assert (closed.received, closed.refusal, closed.state) == (False, "closed", BatchState.EXPIRED)
    unknown = coordinator.receive("nope", ["s1"], NOW)
    assert (unknown.received, unknown.refusal, unknown.state) == (False, "unknown", None)


def test_a_receipt_and_its_outcome_count_once_under_repeats(
    coordinator: Coordinator, redis_client: redis.Redis
) -> None:
    register(coordinator, "b1", 2, deadline_ms=DEADLINE)
    first = coordinator.receive("b1", ["s1"], NOW + 5)
    again = coordinator.receive("b1", ["s1"], NOW + 9)
    assert (first.replayed, again.replayed) == (False, True)
    assert (again.received, again.received_ms) == (True, NOW + 5)
    assert inflight(redis_client, coordinator, "b1") == 1
    coordinator.claim("b1", "s1", "h1", LATER)
    assert coordinator.claim("b1", "s1", "h1", LATER).replayed
    coordinator.fail("b1", "s1", "BAD", "x", LATER)  # the first outcome wins, and counts once
    assert inflight(redis_client, coordinator, "b1") == 0


def test_an_arrival_parked_before_registration_is_replayed_without_a_receipt(
    coordinator: Coordinator, redis_client: redis.Redis
) -> None:
    assert coordinator.receive("b1", ["s1"], NOW).refusal == "unknown"
    assert coordinator.claim("b1", "s1", "h1", NOW).outcome is Outcome.PENDING
    result = register(coordinator, "b1", 2, deadline_ms=DEADLINE)
    assert result.pending_replayed == 1
    status = coordinator.status("b1")
    assert status is not None and (status.state, status.assigned) == (BatchState.OPEN, 1)
    assert inflight(redis_client, coordinator, "b1") == 0


def test_a_request_is_received_whole_at_one_instant_or_not_at_all(
    coordinator: Coordinator, redis_client: redis.Redis
) -> None:
    register(coordinator, "b1", 4, deadline_ms=DEADLINE)
    both = coordinator.receive("b1", ["s1", "s2"], NOW + 5)
    assert (both.received, both.replayed, both.received_ms) == (True, False, NOW + 5)
    assert inflight(redis_client, coordinator, "b1") == 2
    late = coordinator.receive("b1", ["s1", "s3", "s4"], DEADLINE)  # s1 again, with two new ones, late
    assert (late.received, late.refusal) == (False, "late")
    assert inflight(redis_client, coordinator, "b1") == 2  # no receipt of the refused request was kept
    assert not redis_client.hexists(coordinator.config.keys.batch("b1").hash, "r:s3")
    again = coordinator.receive("b1", ["s2", "s1"], DEADLINE)  # all received already: answered alike
    assert (again.received, again.replayed, again.received_ms) == (True, True, NOW + 5)


def test_repeated_or_too_many_submission_ids_are_refused_before_any_round_trip(
    coordinator: Coordinator,
) -> None:
    for ids in (["s1", "s1"], [], [f"s{n}" for n in range(1001)]):
        with pytest.raises(InvalidInputError):
            coordinator.receive("nope", ids, NOW)


def test_without_a_pinned_moment_the_receipt_is_taken_at_the_servers_clock(
    coordinator: Coordinator, redis_client: redis.Redis
) -> None:
    seconds, micros = redis_client.time()
    server_ms = seconds * 1000 + micros // 1000
    register(coordinator, "b1", 1, deadline_ms=server_ms + 60_000, now_ms=server_ms)
    receipt = coordinator.receive("b1", ["s1"])
    after, _ = redis_client.time()
    assert receipt.received_ms is not None
    assert server_ms <= receipt.received_ms <= (after + 1) * 1000
