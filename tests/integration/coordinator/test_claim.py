"""claim.lua and fail.lua: slot order, idempotency, duplicates, excess, sealing exactly once."""

from __future__ import annotations

from coordinator import BatchState, Coordinator, Outcome
from tests.integration.coordinator.support import NOW, register


def test_claims_take_slots_in_order(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 3)
    results = [coordinator.claim("b1", f"s{n}", f"h{n}", NOW) for n in range(3)]
    assert [(r.outcome, r.essay_id, r.slot) for r in results] == [
        (Outcome.ASSIGNED, "b1-001", 0),
        (Outcome.ASSIGNED, "b1-002", 1),
        (Outcome.ASSIGNED, "b1-003", 2),
    ]


def test_only_the_claim_that_takes_the_last_slot_is_told_sealed(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 2)
    first = coordinator.claim("b1", "s1", "h1", NOW)
    last = coordinator.claim("b1", "s2", "h2", NOW + 7)
    assert not first.sealed and first.state is BatchState.OPEN
    assert last.sealed and last.state is BatchState.SEALED
    status = coordinator.status("b1")
    assert status is not None and status.state is BatchState.SEALED and status.closed_as is BatchState.SEALED
    assert status.state_changed_ms == NOW + 7


def test_redelivered_claim_replays_its_outcome_without_sealing_again(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 1)
    first = coordinator.claim("b1", "s1", "h1", NOW)
    again = coordinator.claim("b1", "s1", "h1", NOW)
    assert first.sealed and not first.replayed
    assert again.replayed and not again.sealed
    assert (again.outcome, again.essay_id, again.slot) == (Outcome.ASSIGNED, "b1-001", 0)


def test_duplicate_content_takes_no_second_slot(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 2)
    coordinator.claim("b1", "s1", "same", NOW)
    duplicate = coordinator.claim("b1", "s2", "same", NOW)
    assert (duplicate.outcome, duplicate.essay_id, duplicate.slot) == (Outcome.DUPLICATE, "b1-001", None)
    assert coordinator.claim("b1", "s2", "same", NOW).replayed
    status = coordinator.status("b1")
    assert status is not None and (status.assigned, status.duplicates) == (1, 1)
    assert status.missing_essay_ids == ("b1-002",)


def test_claims_after_sealing_are_recorded_as_excess(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 1)
    coordinator.claim("b1", "s1", "h1", NOW)
    excess = coordinator.claim("b1", "s2", "h2", NOW)
    assert excess.outcome is Outcome.EXCESS and excess.essay_id is None and not excess.sealed
    assert excess.state is BatchState.SEALED
    replay = coordinator.claim("b1", "s2", "h2", NOW)
    assert replay.outcome is Outcome.EXCESS and replay.replayed
    status = coordinator.status("b1")
    assert status is not None and status.excess == 1


def test_duplicate_of_an_assigned_essay_stays_a_duplicate_after_sealing(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 1)
    coordinator.claim("b1", "s1", "h1", NOW)
    late = coordinator.claim("b1", "s2", "h1", NOW)
    assert late.outcome is Outcome.DUPLICATE and late.essay_id == "b1-001"


def test_assignment_records_its_submission_and_time(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 2)
    coordinator.claim("b1", "s1", "sha256:abc", NOW + 3)
    status = coordinator.status("b1")
    assert status is not None
    (record,) = status.records
    assert (record.essay_id, record.slot, record.submission_id) == ("b1-001", 0, "s1")
    assert (record.outcome, record.at_ms, record.code, record.detail) == (
        Outcome.ASSIGNED,
        NOW + 3,
        None,
        None,
    )


def test_final_failure_consumes_the_next_slot_and_names_it(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 2)
    coordinator.claim("b1", "s1", "h1", NOW)
    failed = coordinator.fail("b1", "s2", "CONTENT_TOO_SHORT", "3 words | too short", NOW)
    assert (failed.outcome, failed.essay_id, failed.slot, failed.sealed) == (
        Outcome.FAILED,
        "b1-002",
        1,
        True,
    )
    status = coordinator.status("b1")
    assert status is not None and (status.assigned, status.failed) == (1, 1)
    record = status.records[1]
    assert (record.outcome, record.code, record.detail) == (
        Outcome.FAILED,
        "CONTENT_TOO_SHORT",
        "3 words | too short",
    )


def test_redelivered_failure_replays_the_same_result(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 2)
    first = coordinator.fail("b1", "s1", "BAD", "x", NOW)
    again = coordinator.fail("b1", "s1", "BAD", "x", NOW)
    assert again.replayed and (again.outcome, again.essay_id) == (first.outcome, first.essay_id)
    status = coordinator.status("b1")
    assert status is not None and status.failed == 1


def test_a_failure_reports_the_code_and_detail_redis_recorded_first(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 3)
    first = coordinator.fail("b1", "s1", "PDF_TIMEOUT", "gave up | after 10 s", NOW)
    again = coordinator.fail("b1", "s1", "PROCESSING_FAILED", "", NOW)
    claimed = coordinator.claim("b1", "s1", "h1", NOW)
    for result in (first, again, claimed):
        assert result.outcome is Outcome.FAILED
        assert (result.code, result.detail) == ("PDF_TIMEOUT", "gave up | after 10 s")
    assigned = coordinator.claim("b1", "s2", "h2", NOW)
    assert (assigned.code, assigned.detail) == (None, None)


def test_first_outcome_of_a_submission_wins(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 3)
    coordinator.claim("b1", "claimed-first", "h1", NOW)
    late_failure = coordinator.fail("b1", "claimed-first", "BAD", "x", NOW)
    assert late_failure.outcome is Outcome.ASSIGNED and late_failure.replayed
    coordinator.fail("b1", "failed-first", "BAD", "x", NOW)
    late_claim = coordinator.claim("b1", "failed-first", "h2", NOW)
    assert late_claim.outcome is Outcome.FAILED and late_claim.replayed
    status = coordinator.status("b1")
    assert status is not None and (status.assigned, status.failed) == (1, 1)


def test_failure_after_sealing_is_excess(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 1)
    coordinator.claim("b1", "s1", "h1", NOW)
    late = coordinator.fail("b1", "s2", "BAD", "x", NOW)
    assert late.outcome is Outcome.EXCESS and not late.sealed


def test_failure_for_an_unknown_batch_is_parked(coordinator: Coordinator) -> None:
    parked = coordinator.fail("nobody", "s1", "BAD", "x", NOW)
    assert parked.outcome is Outcome.PENDING and parked.state is None and parked.essay_id is None


def test_a_batch_of_failures_alone_still_seals(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 2)
    coordinator.fail("b1", "s1", "BAD", "x", NOW)
    assert coordinator.fail("b1", "s2", "BAD", "y", NOW).sealed


def test_a_claim_at_the_deadline_expires_the_open_batch_and_takes_no_slot(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 3, deadline_ms=NOW + 1000)
    coordinator.claim("b1", "s1", "h1", NOW)
    late = coordinator.claim("b1", "s2", "h2", NOW + 1000)
    assert (late.outcome, late.essay_id, late.sealed, late.state) == (
        Outcome.EXCESS,
        None,
        True,
        BatchState.EXPIRED,
    )
    later = coordinator.fail("b1", "s3", "BAD", "x", NOW + 2000)
    assert (later.outcome, later.sealed) == (Outcome.EXCESS, False)  # only the closing call is told
    status = coordinator.status("b1")
    assert status is not None and status.closed_as is BatchState.EXPIRED
    assert (status.assigned, status.excess, status.missing_essay_ids) == (1, 2, ("b1-002", "b1-003"))
    assert status.state_changed_ms == NOW + 1000
    assert coordinator.expire_due(NOW + 5000, 10) == []  # the sweep finds nothing left to expire
    assert [stuck.batch_id for stuck in coordinator.rekick_stuck(NOW + 5000, 1000, 10)] == ["b1"]


def test_a_duplicate_at_the_deadline_also_expires_the_batch(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 3, deadline_ms=NOW + 1000)
    coordinator.claim("b1", "s1", "h1", NOW)
    again = coordinator.claim("b1", "s2", "h1", NOW + 1000)
    assert (again.outcome, again.essay_id, again.sealed, again.state) == (
        Outcome.DUPLICATE,
        "b1-001",
        True,
        BatchState.EXPIRED,
    )
