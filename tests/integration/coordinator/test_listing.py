"""list.lua and status: reads from the indexes, never SCAN; pages that lose and repeat nothing."""

from __future__ import annotations

import pytest
import redis

from coordinator import BatchState, Coordinator
from els.errors import InvalidInputError
from tests.integration.coordinator.support import NOW, register


def all_pages(coordinator: Coordinator, owner: str | None, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        page = coordinator.list_active_batches(owner, cursor, limit)
        pages.append([summary.batch_id for summary in page.batches])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


def test_pages_cover_every_active_batch_once(coordinator: Coordinator) -> None:
    ids = {f"b{n}" for n in range(25)}
    for n, batch_id in enumerate(sorted(ids)):
        register(coordinator, batch_id, 2, now_ms=NOW + n)
    pages = all_pages(coordinator, None, 4)
    listed = [batch_id for page in pages for batch_id in page]
    assert sorted(listed) == sorted(ids) and len(listed) == len(ids)
    assert all(len(page) == 4 for page in pages[:-1])


def test_owner_listing_shows_only_that_owners_batches(coordinator: Coordinator) -> None:
    for n in range(10):
        register(coordinator, f"a{n}", 1, owner="alice")
        register(coordinator, f"m{n}", 1, owner="alice2")
    listed = [batch_id for page in all_pages(coordinator, "alice", 3) for batch_id in page]
    assert sorted(listed) == sorted(f"a{n}" for n in range(10))


def test_summaries_carry_state_and_counts(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 2, owner="bob")
    coordinator.claim("b1", "s1", "h1", NOW)
    (summary,) = coordinator.list_active_batches("bob", None, 10).batches
    assert (summary.state, summary.expected, summary.assigned, summary.owner) == (
        BatchState.OPEN,
        2,
        1,
        "bob",
    )


def test_done_batches_leave_the_listing(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 1)
    register(coordinator, "b2", 1)
    coordinator.claim("b1", "s1", "h1", NOW)
    ticket = coordinator.begin_finalize("b1", NOW, 1000)
    assert ticket.token is not None and coordinator.complete_finalize("b1", ticket.token, NOW)
    assert [s.batch_id for s in coordinator.list_active_batches(None, None, 10).batches] == ["b2"]


def test_listing_drops_entries_of_vanished_batches(
    coordinator: Coordinator, redis_client: redis.Redis
) -> None:
    register(coordinator, "b1", 1)
    keys = coordinator.config.keys.batch("b1")
    redis_client.delete(keys.hash)
    assert coordinator.list_active_batches("alice", None, 10).batches == ()
    assert coordinator.list_active_batches(None, None, 10).batches == ()
    assert redis_client.zcard(keys.shard.active) == 0 and redis_client.zcard(keys.shard.owners) == 0


def test_a_cursor_of_another_owner_or_garbage_is_refused(coordinator: Coordinator) -> None:
    for n in range(3):
        register(coordinator, f"b{n}", 1, owner="alice")
    page = coordinator.list_active_batches("alice", None, 1)
    assert page.next_cursor is not None
    with pytest.raises(InvalidInputError):
        coordinator.list_active_batches("mallory", page.next_cursor, 1)
    with pytest.raises(InvalidInputError):
        coordinator.list_active_batches(None, "not-a-cursor!", 1)


def test_an_explicit_essay_id_may_be_live_in_two_shards(coordinator: Coordinator) -> None:
    keys = coordinator.config.keys
    other = next(f"c{n}" for n in range(1, 1000) if keys.batch(f"c{n}").shard != keys.batch("c0").shard)
    assert register(coordinator, "c0", essay_ids=["shared"], owner="alice", now_ms=NOW).created
    assert register(coordinator, other, essay_ids=["shared"], owner="bob", now_ms=NOW + 1).created


def test_status_of_an_unknown_batch_is_none(coordinator: Coordinator) -> None:
    assert coordinator.status("nobody") is None


def test_status_reports_metadata_and_missing_slots(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 3, metadata_json='{"course": "EN-101"}')
    coordinator.claim("b1", "s1", "h1", NOW)
    status = coordinator.status("b1")
    assert status is not None
    assert status.metadata_json == '{"course": "EN-101"}'
    assert status.missing_essay_ids == ("b1-002", "b1-003")
    assert status.closed_as is None


def test_status_keeps_the_close_time_after_finalizing_begins(coordinator: Coordinator) -> None:
    register(coordinator, "b1", 1)
    coordinator.claim("b1", "s1", "h1", NOW + 5)
    coordinator.begin_finalize("b1", NOW + 9, 60_000)
    status = coordinator.status("b1")
    assert status is not None and (status.closed_ms, status.state_changed_ms) == (NOW + 5, NOW + 9)
    register(coordinator, "b2", 1, deadline_ms=NOW + 10)
    coordinator.expire_due(NOW + 11, 10)
    expired = coordinator.status("b2")
    assert expired is not None and expired.closed_ms == NOW + 11
    register(coordinator, "b3", 1)
    still_open = coordinator.status("b3")
    assert still_open is not None and still_open.closed_ms is None
