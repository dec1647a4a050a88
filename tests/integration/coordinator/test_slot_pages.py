"""slots.lua: a batch's slots a page at a time, by slot index; pages that lose and repeat nothing, bounded
by their limit, and a cursor or limit out of bounds refused before any round trip."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from coordinator import BatchState, Coordinator, Outcome, SlotLine
from coordinator.coordinator import MAX_SLOT_PAGE
from coordinator.cursor import encode_cursor, encode_slot_cursor
from els.errors import InvalidInputError
from els.settings import Settings
from tests.integration.coordinator.support import NOW, register
from tests.support.redis_calls import CountingRedis, counting_client


@pytest.fixture
def counted(redis_url: str, settings: Settings) -> Iterator[tuple[Coordinator, CountingRedis]]:
    """A coordinator on a client that counts its commands, under this test's prefix."""
    with counting_client(redis_url) as client:
        yield Coordinator.from_settings(settings, client), client


def every_page(coordinator: Coordinator, batch_id: str, limit: int) -> list[tuple[SlotLine, ...]]:
    pages: list[tuple[SlotLine, ...]] = []
    cursor: str | None = None
    while True:
        page = coordinator.slot_page(batch_id, cursor, limit)
        assert page is not None
        pages.append(page.slots)
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


def fill(coordinator: Coordinator, batch_id: str, assigned: int, failed: int) -> None:
    for n in range(assigned):
        coordinator.claim(batch_id, f"s-{n}", f"{n:064x}", NOW + 1 + n)
    for n in range(failed):
        coordinator.fail(batch_id, f"f-{n}", "EMPTY_CONTENT", f"empty {n}", NOW + 100 + n)


@pytest.mark.parametrize("limit", [1, 4, 7, 25, 26, MAX_SLOT_PAGE])
def test_pages_cover_every_slot_once_in_slot_order_and_agree_with_status(
    coordinator: Coordinator, limit: int
) -> None:
    register(coordinator, "b1", 25)
    fill(coordinator, "b1", assigned=7, failed=2)
    pages = every_page(coordinator, "b1", limit)
    assert all(1 <= len(page) <= limit for page in pages)
    lines = [line for page in pages for line in page]
    status = coordinator.status("b1")
    assert status is not None
    assert [line.position for line in lines] == list(range(25))
    assert tuple(line.essay_id for line in lines) == status.slots
    assert tuple(line.record for line in lines if line.record is not None) == status.records
    assert all(line.record is None for line in lines[9:])  # not consumed yet
    outcomes = [line.record.outcome for line in lines[:9] if line.record is not None]
    assert outcomes == [Outcome.ASSIGNED] * 7 + [Outcome.FAILED] * 2


def test_a_page_carries_the_counts_read_with_it(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 5, owner="alice")
    fill(coordinator, "b1", assigned=2, failed=1)
    page = coordinator.slot_page("b1", None, 2)
    assert page is not None
    assert (page.owner, page.state, page.expected, page.consumed) == ("alice", BatchState.OPEN, 5, 3)
    assert [line.essay_id for line in page.slots] == ["b1-001", "b1-002"]
    assert page.next_cursor == encode_slot_cursor(2)

    coordinator.close("b1", "alice", NOW + 500)
    closed = coordinator.slot_page("b1", encode_slot_cursor(3), 10)
    assert closed is not None and closed.state is BatchState.CLOSED
    assert [(line.position, line.record) for line in closed.slots] == [(3, None), (4, None)]
    assert closed.next_cursor is None


def test_an_unknown_batch_is_none_and_a_cursor_past_the_end_an_empty_last_page(
    coordinator: Coordinator,
) -> None:
    assert coordinator.slot_page("nobody", None, 10) is None
    register(coordinator, "b1", 3)
    past = coordinator.slot_page("b1", encode_slot_cursor(3), 10)
    assert past is not None and past.slots == () and past.next_cursor is None


def test_each_page_is_one_round_trip_whatever_the_batch_size(
    counted: tuple[Coordinator, CountingRedis],
) -> None:
    coordinator, client = counted
    register(coordinator, "big", coordinator.config.max_expected_essays)
    coordinator.slot_page("big", None, 1)  # loads the script once
    client.commands.clear()
    page = coordinator.slot_page("big", encode_slot_cursor(900), 10)
    assert page is not None and [line.position for line in page.slots] == list(range(900, 910))
    assert client.commands == ["EVALSHA"]


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not-base64-!!",
        "c2xvdDo",  # "slot:" with no index
        encode_slot_cursor(0)[:-1] + "A" * 40,  # longer than any cursor of ours
        encode_cursor(0, "alice/1/b1"),  # the batch listing's cursor
        encode_slot_cursor(1001),  # past the largest batch of the deployment (1000 slots)
        "c2xvdDotMQ",  # "slot:-1"
        "c2xvdDrZoQ",  # "slot:" and a digit of another script
    ],
)
def test_a_bad_cursor_is_refused_before_any_round_trip(
    counted: tuple[Coordinator, CountingRedis], cursor: str
) -> None:
    coordinator, client = counted
    client.commands.clear()
    with pytest.raises(InvalidInputError) as refused:
        coordinator.slot_page("b1", cursor, 10)
    assert refused.value.details == {"field": "cursor"}
    assert client.commands == []


@pytest.mark.parametrize("limit", [0, -1, MAX_SLOT_PAGE + 1])
def test_a_limit_out_of_bounds_is_refused_before_any_round_trip(
    counted: tuple[Coordinator, CountingRedis], limit: int
) -> None:
    coordinator, client = counted
    client.commands.clear()
    with pytest.raises(InvalidInputError):
        coordinator.slot_page("b1", None, limit)
    with pytest.raises(InvalidInputError):
        coordinator.slot_page("bad id", None, 10)
    assert client.commands == []
