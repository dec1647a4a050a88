"""Parsing each script's reply into the coordinator's typed values (the reply shapes are in each .lua)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from coordinator import narrow
from coordinator.model import (
    BatchGate,
    BatchProgress,
    BatchStatus,
    BatchSummary,
    EndResult,
    ExpiredBatch,
    FinalizeTicket,
    ReceiveResult,
    RegisterResult,
    ShardFigures,
    SlotLine,
    SlotPage,
    SlotRecord,
    SlotResult,
    StuckBatch,
)
from els.errors import UnexpectedReplyError
from essays.lifecycle import BatchState, Outcome


@dataclass(frozen=True)
class RegisterRefusal:
    """register.lua declined: another request was registered under this id (`state`: as it stands)."""

    state: BatchState


# Lookup tables rather than Enum(value): the claim path parses one reply per call.
_STATES: dict[object, BatchState] = {
    key: state for state in BatchState for key in (state.value, state.encode())
}
_OUTCOMES: dict[object, Outcome] = {
    key: outcome for outcome in Outcome for key in (outcome.value, outcome.encode())
}


_FLAGS = ("0", "1")


def _state(value: object) -> BatchState:
    state = _STATES.get(value) if isinstance(value, bytes | str) else None
    if state is None:
        raise UnexpectedReplyError(f"unknown batch state {value!r}")
    return state


def _optional_state(value: object) -> BatchState | None:
    return None if value in (None, b"", "") else _state(value)


def _optional_number(value: object) -> int | None:
    return None if value in (None, b"", "") else narrow.integer(value)


def _outcome(value: object) -> Outcome:
    outcome = _OUTCOMES.get(value) if isinstance(value, bytes | str) else None
    if outcome is None:
        raise UnexpectedReplyError(f"unknown outcome {value!r}")
    return outcome


def parse_register(raw: object, batch_id: str) -> RegisterResult | RegisterRefusal:
    """The reply of register.lua."""
    kind, second, sealed, replayed = narrow.array(raw, 4)
    word = narrow.text(kind)
    if word in ("created", "replayed"):
        return RegisterResult(
            batch_id=batch_id,
            created=word == "created",
            state=_state(second),
            sealed=narrow.flag(sealed),
            pending_replayed=narrow.integer(replayed),
        )
    if word == "conflict":
        return RegisterRefusal(state=_state(second))
    raise UnexpectedReplyError(f"unknown register reply {word!r}")


_REFUSALS = ("unknown", "closed", "late")


def parse_receive(raw: object, batch_id: str) -> ReceiveResult:
    """The reply of receive.lua: {word, state, deadline_ms, received_ms, replayed}."""
    kind, state, deadline, received_ms, replayed = narrow.array(raw, 5)
    word = narrow.text(kind)
    if word != "received" and word not in _REFUSALS:
        raise UnexpectedReplyError(f"unknown receive reply {word!r}")
    return ReceiveResult(
        batch_id=batch_id,
        received=word == "received",
        replayed=narrow.flag(replayed),
        refusal=None if word == "received" else word,
        state=_optional_state(state),
        deadline_ms=_optional_number(deadline),
        received_ms=_optional_number(received_ms),
    )


def parse_slot(raw: object, batch_id: str, submission_id: str) -> SlotResult:
    """The reply of claim.lua and fail.lua.

    '<outcome>|<essay>|<slot>|<sealed>|<replayed>|<state>|<code>|<detail>': detail comes last, as the
    one part that may hold '|'.
    """
    parts = narrow.text(raw).split("|", 7)
    if len(parts) != 8 or parts[3] not in _FLAGS or parts[4] not in _FLAGS:
        raise UnexpectedReplyError(f"malformed slot reply {raw!r}")
    outcome_text, essay_id, slot, sealed, replayed, state, code, detail = parts
    slot_number = narrow.integer(slot)
    outcome = _outcome(outcome_text)
    failed = outcome is Outcome.FAILED
    return SlotResult(
        batch_id=batch_id,
        submission_id=submission_id,
        outcome=outcome,
        essay_id=essay_id or None,
        slot=None if slot_number < 0 else slot_number,
        sealed=sealed == "1",
        replayed=replayed == "1",
        state=_optional_state(state),
        code=(code or None) if failed else None,
        detail=detail if failed else None,
    )


_ENDS = ("closed", "cancelled", "unknown", "not_open")


def parse_end(raw: object, batch_id: str, ended_word: str) -> EndResult:
    """The reply of close.lua or cancel.lua: {word, state, replayed, {missing essay ids}}."""
    kind, state, replayed, missing = narrow.array(raw, 4)
    word = narrow.text(kind)
    if word not in _ENDS:
        raise UnexpectedReplyError(f"unknown close or cancel reply {word!r}")
    return EndResult(
        batch_id=batch_id,
        found=word != "unknown",
        ended=word == ended_word,
        replayed=narrow.flag(replayed),
        state=_optional_state(state),
        missing_essay_ids=narrow.texts(missing),
    )


def parse_expired(raw: object) -> tuple[int, int, list[ExpiredBatch]]:
    """The reply of expire.lua: entries scanned, how many were held, and the batches expired."""
    items = narrow.array(raw)
    if len(items) < 2:
        raise UnexpectedReplyError("malformed expire reply")
    expired = []
    for item in items[2:]:
        batch_id, owner, expected, assigned, failed, correlation_id = narrow.array(item, 6)
        expired.append(
            ExpiredBatch(
                batch_id=narrow.text(batch_id),
                owner=narrow.text(owner),
                expected=narrow.integer(expected),
                assigned=narrow.integer(assigned),
                failed=narrow.integer(failed),
                correlation_id=narrow.text(correlation_id),
            )
        )
    return narrow.integer(items[0]), narrow.integer(items[1]), expired


def parse_rekick(raw: object) -> tuple[int, list[StuckBatch]]:
    """The reply of rekick.lua: how many index entries were scanned, the batches to re-kick or report."""
    items = narrow.array(raw)
    if not items or len(items) % 2 == 0:
        raise UnexpectedReplyError("malformed rekick reply")
    stuck = []
    for batch_id, raw_state in zip(items[1::2], items[2::2], strict=True):
        state = _optional_state(raw_state)  # '' = its keys are gone
        stuck.append(StuckBatch(batch_id=narrow.text(batch_id), state=state, vanished=state is None))
    return narrow.integer(items[0]), stuck


def parse_gauges(raw: object) -> ShardFigures:
    """The reply of gauges.lua: one shard's counts and its oldest not-DONE batch's creation time."""
    open_batches, overdue, oldest, finishing, stuck, parked = narrow.array(raw, 6)
    member = narrow.optional_text(oldest)
    return ShardFigures(
        open_batches=narrow.integer(open_batches),
        overdue_batches=narrow.integer(overdue),
        oldest_created_ms=None if member is None else narrow.integer(member.split("/", 1)[0]),
        finishing_batches=narrow.integer(finishing),
        stuck_batches=narrow.integer(stuck),
        parked_arrivals=narrow.integer(parked),
    )


PROGRESS_FIELDS = (
    "state",
    "owner",
    "expected",
    "assigned",
    "failed",
    "excess",
    "duplicates",
    "closed_as",
    "deadline_ms",
    "created_ms",
    "closed_ms",
    "correlation_id",
)


def parse_progress(raw: object, batch_id: str) -> BatchProgress | None:
    """The reply of `HMGET <batch> PROGRESS_FIELDS`; None when the batch does not exist."""
    (
        state,
        owner,
        expected,
        assigned,
        failed,
        excess,
        duplicates,
        closed_as,
        deadline,
        created,
        closed,
        correlation_id,
    ) = narrow.array(raw, len(PROGRESS_FIELDS))
    if state is None:
        return None
    return BatchProgress(
        batch_id=batch_id,
        owner=narrow.text(owner),
        state=_state(state),
        expected=narrow.integer(expected),
        assigned=narrow.integer(assigned),
        failed=narrow.integer(failed),
        excess=narrow.integer(excess),
        duplicates=narrow.integer(duplicates),
        closed_as=_optional_state(closed_as),
        deadline_ms=narrow.integer(deadline),
        created_ms=narrow.integer(created),
        closed_ms=_optional_number(closed),
        correlation_id=narrow.text(correlation_id),
    )


def parse_gate(raw: object, batch_id: str) -> BatchGate | None:
    """The reply of gate.lua: {state, owner, deadline_ms, late}; None when the batch does not exist."""
    state, owner, deadline, late = narrow.array(raw, 4)
    if state is None:
        return None
    return BatchGate(
        batch_id=batch_id,
        owner=narrow.text(owner),
        state=_state(state),
        deadline_ms=narrow.integer(deadline),
        late=narrow.flag(late),
    )


def parse_ticket(raw: object, batch_id: str) -> FinalizeTicket:
    """The reply of begin_finalize.lua."""
    acquired, token, state, taken_over = narrow.array(raw, 4)
    return FinalizeTicket(
        batch_id=batch_id,
        acquired=narrow.flag(acquired),
        token=narrow.optional_text(token),
        state=_optional_state(state),
        taken_over=narrow.flag(taken_over),
    )


def parse_list(raw: object) -> tuple[int, str, list[BatchSummary]]:
    """The reply of list.lua: members scanned, the last member scanned, and the live batches."""
    items = narrow.array(raw)
    if len(items) < 2:
        raise UnexpectedReplyError("malformed list reply")
    summaries = []
    for item in items[2:]:
        batch_id, owner, state, expected, assigned, failed, excess, created, deadline = narrow.array(item, 9)
        summaries.append(
            BatchSummary(
                batch_id=narrow.text(batch_id),
                owner=narrow.text(owner),
                state=_state(state),
                expected=narrow.integer(expected),
                assigned=narrow.integer(assigned),
                failed=narrow.integer(failed),
                excess=narrow.integer(excess),
                created_ms=narrow.integer(created),
                deadline_ms=narrow.integer(deadline),
            )
        )
    return narrow.integer(items[0]), narrow.text(items[1]), summaries


def _record(essay_id: str, slot: int, encoded: object) -> SlotRecord:
    """A slot record: 'a|<submission>|<at>' or 'f|<submission>|<at>|<code>|<detail>'."""
    parts = narrow.text(encoded).split("|", 4)
    if parts[0] == "a" and len(parts) == 3:
        return SlotRecord(essay_id, slot, parts[1], Outcome.ASSIGNED, None, None, narrow.integer(parts[2]))
    if parts[0] == "f" and len(parts) == 5:
        _, submission_id, at_ms, code, detail = parts
        return SlotRecord(essay_id, slot, submission_id, Outcome.FAILED, code, detail, narrow.integer(at_ms))
    raise UnexpectedReplyError(f"malformed slot record of {essay_id}")


STATUS_FIELDS = (
    "state",
    "closed_as",
    "owner",
    "expected",
    "assigned",
    "failed",
    "excess",
    "duplicates",
    "deadline_ms",
    "created_ms",
    "state_ms",
    "closed_ms",
    "correlation_id",
    "metadata_json",
)


def parse_status(raw: object, batch_id: str) -> BatchStatus | None:
    """The reply of status.lua (asked for STATUS_FIELDS); None when the batch does not exist."""
    if raw is None:
        return None
    meta_raw, slots_raw, records_raw = narrow.array(raw, 3)
    meta = dict(zip(STATUS_FIELDS, narrow.array(meta_raw, len(STATUS_FIELDS)), strict=True))
    slots = narrow.texts(slots_raw)

    def number(field: str) -> int:
        return narrow.integer(meta.get(field))

    consumed = number("assigned") + number("failed")
    records = [
        _record(slots[slot], slot, encoded)
        for slot, encoded in enumerate(narrow.array(records_raw, min(consumed, len(slots))))
    ]
    return BatchStatus(
        batch_id=batch_id,
        state=_state(meta.get("state")),
        closed_as=_optional_state(meta.get("closed_as")),
        owner=narrow.text(meta.get("owner")),
        expected=number("expected"),
        assigned=number("assigned"),
        failed=number("failed"),
        excess=number("excess"),
        duplicates=number("duplicates"),
        slots=slots,
        records=tuple(records),
        missing_essay_ids=slots[consumed:],
        deadline_ms=number("deadline_ms"),
        created_ms=number("created_ms"),
        state_changed_ms=number("state_ms"),
        closed_ms=_optional_number(meta.get("closed_ms")),
        correlation_id=narrow.text(meta.get("correlation_id")),
        metadata_json=narrow.text(meta.get("metadata_json")),
    )


def parse_slots(raw: object, batch_id: str, first: int, next_cursor: Callable[[int], str]) -> SlotPage | None:
    """The reply of slots.lua for the page starting at slot `first`; None when the batch does not exist.

    `next_cursor` makes the cursor of the slot after the page, asked only when slots follow it.
    """
    if raw is None:
        return None
    owner, state, expected_raw, consumed, essays_raw, records_raw = narrow.array(raw, 6)
    essays = narrow.texts(essays_raw)
    expected = narrow.integer(expected_raw)
    slots = tuple(
        SlotLine(
            position=first + offset,
            essay_id=essay_id,
            record=None if encoded is None else _record(essay_id, first + offset, encoded),
        )
        for offset, (essay_id, encoded) in enumerate(
            zip(essays, narrow.array(records_raw, len(essays)), strict=True)
        )
    )
    following = first + len(slots)
    return SlotPage(
        batch_id=batch_id,
        owner=narrow.text(owner),
        state=_state(state),
        expected=expected,
        consumed=narrow.integer(consumed),
        slots=slots,
        next_cursor=next_cursor(following) if slots and following < expected else None,
    )
