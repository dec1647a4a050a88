"""Concurrent processes, each with its own client, racing on one batch: the scripts keep every invariant."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from multiprocessing.synchronize import Barrier
from typing import NamedTuple, TypeVar

import pytest
import redis

from coordinator import BatchState, Coordinator, Outcome, SlotResult
from els.settings import Settings
from tests.integration.coordinator.support import NOW, register

CONTEXT = multiprocessing.get_context("fork")
T = TypeVar("T")


class SlotReport(NamedTuple):
    """What one caller was told by claim."""

    submission_id: str
    outcome: Outcome
    essay_id: str | None
    sealed: bool
    replayed: bool


class RaceReport(NamedTuple):
    """What one role saw in one round of the race."""

    round_number: int
    role: int
    closed: bool  # this role moved the batch out of OPEN (sealed it or expired it)
    acquired: bool  # this role acquired finalization
    claim_outcome: Outcome | None


def run_processes(
    count: int, target: Callable[[int, Barrier, Settings], list[T]], settings: Settings
) -> list[T]:
    """Run `target(index, barrier, settings)` in `count` processes started together; all their reports."""
    barrier = CONTEXT.Barrier(count)
    queue = CONTEXT.Queue()

    def child(index: int) -> None:
        queue.put(target(index, barrier, settings))

    processes = [CONTEXT.Process(target=child, args=(index,)) for index in range(count)]
    for process in processes:
        process.start()
    reports: list[T] = []
    for _ in processes:
        reports.extend(queue.get(timeout=120))
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    return reports


def own_coordinator(settings: Settings) -> Coordinator:
    """A coordinator with a client of this process's own."""
    return Coordinator.from_settings(settings, redis.Redis.from_url(settings.redis_url))


def slot_report(result: SlotResult) -> SlotReport:
    return SlotReport(result.submission_id, result.outcome, result.essay_id, result.sealed, result.replayed)


def claim_same_submission(index: int, barrier: Barrier, settings: Settings) -> list[SlotReport]:
    coordinator = own_coordinator(settings)
    barrier.wait()
    return [slot_report(coordinator.claim("b1", "same-submission", "same-content", NOW))]


def claim_same_content(index: int, barrier: Barrier, settings: Settings) -> list[SlotReport]:
    coordinator = own_coordinator(settings)
    barrier.wait()
    return [slot_report(coordinator.claim("b1", f"upload-{index}", "same-content", NOW))]


def test_twenty_identical_deliveries_take_one_slot_and_all_hear_the_same_essay(
    coordinator: Coordinator, settings: Settings
) -> None:
    register(coordinator, "b1", 3)
    reports = run_processes(20, claim_same_submission, settings)
    assert {report.essay_id for report in reports} == {"b1-001"}
    assert sorted(report.replayed for report in reports) == [False] + [True] * 19  # one first, 19 replays
    assert {report.outcome for report in reports} == {Outcome.ASSIGNED}
    status = coordinator.status("b1")
    assert status is not None and status.assigned == 1


def test_twenty_uploads_of_the_same_content_take_one_slot(
    coordinator: Coordinator, settings: Settings
) -> None:
    register(coordinator, "b1", 3)
    reports = run_processes(20, claim_same_content, settings)
    assert {report.essay_id for report in reports} == {"b1-001"}
    assert sorted(report.outcome.value for report in reports) == ["assigned"] + ["duplicate"] * 19
    status = coordinator.status("b1")
    assert status is not None and (status.assigned, status.duplicates) == (1, 19)


SLOTS, EXTRA, WORKERS = 60, 25, 6


def claim_share(index: int, barrier: Barrier, settings: Settings) -> list[SlotReport]:
    coordinator = own_coordinator(settings)
    barrier.wait()
    return [
        slot_report(coordinator.claim("b1", f"sub-{n}", f"content-{n}", NOW))
        for n in range(index, SLOTS + EXTRA, WORKERS)
    ]


def test_more_uploads_than_slots_fill_every_slot_once_and_lose_nothing(
    coordinator: Coordinator, settings: Settings
) -> None:
    register(coordinator, "b1", SLOTS)
    reports = run_processes(WORKERS, claim_share, settings)
    assert (
        len(reports) == SLOTS + EXTRA and len({report.submission_id for report in reports}) == SLOTS + EXTRA
    )
    assigned = [report for report in reports if report.outcome is Outcome.ASSIGNED]
    excess = [report for report in reports if report.outcome is Outcome.EXCESS]
    assert (len(assigned), len(excess)) == (SLOTS, EXTRA)
    assert sorted(str(report.essay_id) for report in assigned) == [f"b1-{n:03d}" for n in range(1, SLOTS + 1)]
    assert sum(report.sealed for report in reports) == 1  # exactly one caller is told to seal
    status = coordinator.status("b1")
    assert status is not None and status.state is BatchState.SEALED
    assert (status.assigned, status.excess, status.missing_essay_ids) == (SLOTS, EXTRA, ())


ROUNDS = 250
DEADLINE = NOW + 10_000
LEASE = 60_000


def race_round_deadline(round_number: int) -> int:
    return DEADLINE + round_number * 10


def race(index: int, barrier: Barrier, settings: Settings) -> list[RaceReport]:
    """Role 0 claims the last slot, role 1 sweeps for expiry, role 2 polls to finalize; each round."""
    coordinator = own_coordinator(settings)
    reports: list[RaceReport] = []
    for round_number in range(ROUNDS):
        batch_id = f"race-{round_number}"
        now = race_round_deadline(round_number)
        barrier.wait()
        closed = False
        claim_outcome = None
        if index == 0:
            # Just before the deadline by its own clock, while the sweep's clock has reached it.
            result = coordinator.claim(batch_id, "last", "last-content", now - 1)
            closed, claim_outcome = result.sealed, result.outcome
        elif index == 1:
            closed = any(batch.batch_id == batch_id for batch in coordinator.expire_due(now, 1000))
        acquired = False
        if closed or index == 2:
            give_up = time.monotonic() + 30
            while True:
                ticket = coordinator.begin_finalize(batch_id, now, LEASE)
                if ticket.acquired or ticket.state is not BatchState.OPEN or time.monotonic() > give_up:
                    acquired = ticket.acquired
                    break
        reports.append(RaceReport(round_number, index, closed, acquired, claim_outcome))
    return reports


@pytest.mark.slow
def test_last_claim_expiry_and_a_second_finalizer_race_with_exactly_one_winner_each(
    coordinator: Coordinator, settings: Settings
) -> None:
    for round_number in range(ROUNDS):
        batch_id = f"race-{round_number}"
        register(coordinator, batch_id, 2, deadline_ms=race_round_deadline(round_number))
        coordinator.claim(batch_id, "first", "first-content", NOW)
    reports = run_processes(3, race, settings)
    assert len(reports) == 3 * ROUNDS
    for round_number in range(ROUNDS):
        mine = [report for report in reports if report.round_number == round_number]
        closers = [report.role for report in mine if report.closed]
        assert len(closers) == 1, mine  # the last claim sealed it, or the sweep expired it: never both
        assert sum(report.acquired for report in mine) == 1, mine  # exactly one finalizer
        (claim_outcome,) = [report.claim_outcome for report in mine if report.role == 0]
        assert claim_outcome is (Outcome.ASSIGNED if closers == [0] else Outcome.EXCESS)
    statuses = [coordinator.status(f"race-{n}") for n in range(ROUNDS)]
    assert all(status is not None and status.state is BatchState.FINALIZING for status in statuses)
