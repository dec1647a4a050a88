"""Replies of an unexpected shape are refused, never guessed around; eviction replies are read right."""

from __future__ import annotations

import pytest

from coordinator import BatchState, Outcome
from coordinator.eviction import eviction_warning
from coordinator.replies import (
    parse_expired,
    parse_receive,
    parse_register,
    parse_slot,
    parse_slots,
    parse_status,
    parse_ticket,
)
from els.errors import UnexpectedReplyError


def test_a_slot_reply_parses_into_its_fields() -> None:
    result = parse_slot(b"assigned|b1-002|1|1|0|sealed||", "b1", "s1")
    assert (result.outcome, result.essay_id, result.slot, result.sealed, result.replayed) == (
        Outcome.ASSIGNED,
        "b1-002",
        1,
        True,
        False,
    )
    assert (result.code, result.detail) == (None, None)


def test_a_failed_slot_reply_carries_its_code_and_a_detail_that_may_hold_the_separator() -> None:
    result = parse_slot(b"failed|b1-001|0|0|1|open|PDF_TIMEOUT|took | too long", "b1", "s1")
    assert (result.outcome, result.code, result.detail) == (Outcome.FAILED, "PDF_TIMEOUT", "took | too long")


@pytest.mark.parametrize(
    "reply",
    [
        b"assigned|b1|1|1|0|open",
        b"won|b1|1|1|0|open||",
        b"assigned|b1|x|1|0|open||",
        b"assigned|b1|1|2|0|open||",
        7,
        None,
    ],
)
def test_malformed_slot_replies_are_refused(reply: object) -> None:
    with pytest.raises(UnexpectedReplyError):
        parse_slot(reply, "b1", "s1")


def test_other_malformed_replies_are_refused() -> None:
    with pytest.raises(UnexpectedReplyError):
        parse_register([b"maybe", b"open", 0, 0], "b1")
    with pytest.raises(UnexpectedReplyError):
        parse_ticket([1, b"7", b"limbo", 0], "b1")
    with pytest.raises(UnexpectedReplyError):
        parse_status([[b"open"], [], []], "b1")


def test_eviction_warning_reads_flat_and_per_node_replies() -> None:
    assert eviction_warning({"maxmemory-policy": "noeviction"}) is None
    assert eviction_warning({b"maxmemory-policy": b"noeviction"}) is None
    nested = {"node-a": {"maxmemory-policy": "noeviction"}, "node-b": {"maxmemory-policy": "volatile-lru"}}
    warning = eviction_warning(nested)
    assert warning is not None and "volatile-lru" in warning
    assert eviction_warning({}) is not None


def test_receive_replies_parse_into_a_receipt_or_a_refusal() -> None:
    receipt = parse_receive([b"received", b"open", b"1000", b"990", 0], "b1")
    assert (receipt.received, receipt.replayed, receipt.refusal, receipt.received_ms) == (
        True,
        False,
        None,
        990,
    )
    late = parse_receive([b"late", b"open", b"1000", b"", 0], "b1")
    assert (late.received, late.refusal, late.state, late.deadline_ms) == (
        False,
        "late",
        BatchState.OPEN,
        1000,
    )
    with pytest.raises(UnexpectedReplyError):
        parse_receive([b"maybe", b"open", b"1000", b"", 0], "b1")
    with pytest.raises(UnexpectedReplyError):
        parse_receive([b"received", b"open", b"1000", b"990"], "b1")


def test_an_expire_reply_without_its_held_count_is_refused() -> None:
    assert parse_expired([0, 0]) == (0, 0, [])
    assert parse_expired([2, 1]) == (2, 1, [])
    with pytest.raises(UnexpectedReplyError):
        parse_expired([3])


def _cursor(slot: int) -> str:
    return f"next-{slot}"


def test_a_slots_reply_parses_into_lines_with_their_positions_and_records() -> None:
    record = b"f|s-9|1800000000000|EMPTY_CONTENT|no words | at all"
    page = parse_slots([b"alice", b"open", 10, 4, [b"b1-004", b"b1-005"], [record, None]], "b1", 3, _cursor)
    assert page is not None
    assert (page.owner, page.state, page.expected, page.consumed) == ("alice", BatchState.OPEN, 10, 4)
    first, second = page.slots
    assert (first.position, first.essay_id, second.position, second.record) == (3, "b1-004", 4, None)
    assert first.record is not None and first.record.detail == "no words | at all"
    assert page.next_cursor == "next-5"


def test_a_slots_reply_ending_the_batch_or_empty_has_no_next_cursor() -> None:
    last = parse_slots([b"alice", b"sealed", 2, 2, [b"b1-002"], [None]], "b1", 1, _cursor)
    assert last is not None and last.next_cursor is None
    empty = parse_slots([b"alice", b"open", 2, 0, [], []], "b1", 5, _cursor)
    assert empty is not None and (empty.slots, empty.next_cursor) == ((), None)
    assert parse_slots(None, "b1", 0, _cursor) is None


@pytest.mark.parametrize(
    "reply",
    [
        [b"alice", b"open", 2, 0, [b"b1-001"]],  # no records
        [b"alice", b"open", 2, 0, [b"b1-001"], []],  # records and slots disagree
        [b"alice", b"nope", 2, 0, [], []],  # no such state
        [b"alice", b"open", 2, 0, [b"b1-001"], [b"assigned|0|s"]],  # a malformed record
    ],
)
def test_a_malformed_slots_reply_is_refused(reply: list[object]) -> None:
    with pytest.raises(UnexpectedReplyError):
        parse_slots(reply, "b1", 0, _cursor)
