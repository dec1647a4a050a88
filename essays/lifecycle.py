"""The lifecycles ELS tracks, as explicit transition tables, and the slot outcomes of the coordinator.

A batch is open → sealed | expired | closed → finalizing → done, or open → cancelled; the coordinator's
Lua scripts decide each step and SQL mirrors it (without finalizing), refusing a record that contradicts
it. `closed` is a batch its owner closed early (missing slots named, then the usual analysis and report);
`cancelled` is a batch its owner ended with no report (Redis still moves it through finalizing to done,
with `closed_as` cancelled, so its keys get their TTL; SQL keeps it cancelled).

A submission is one upload: received → processing → ready | failed | excess | duplicate (or received →
failed | excess when processing never began).
An essay is one slot of a batch: awaiting → ready | failed | missing, then ready → analysing →
analysed | analysis_failed. Re-entering the current state is a no-op (redelivered tasks); any other
transition not in the table is an error, never silently applied.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from els.errors import InvalidTransitionError


class SubmissionState(StrEnum):
    """Where one upload is on its way to a slot."""

    RECEIVED = "received"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
    EXCESS = "excess"
    DUPLICATE = "duplicate"


class EssayState(StrEnum):
    """Where one slot of a batch is."""

    AWAITING = "awaiting"
    READY = "ready"
    FAILED = "failed"
    MISSING = "missing"
    ANALYSING = "analysing"
    ANALYSED = "analysed"
    ANALYSIS_FAILED = "analysis_failed"


class BatchState(StrEnum):
    """Where a batch is in its life: OPEN -> SEALED | EXPIRED | CLOSED -> FINALIZING -> DONE, or CANCELLED."""

    OPEN = "open"
    SEALED = "sealed"
    EXPIRED = "expired"
    CLOSED = "closed"  # closed early by its owner: sealed now, with the slots still missing
    CANCELLED = "cancelled"  # ended by its owner with no report
    FINALIZING = "finalizing"
    DONE = "done"


class Outcome(StrEnum):
    """What a claim or a failure report came to."""

    ASSIGNED = "assigned"  # took the next slot
    FAILED = "failed"  # a final failure consumed the next slot
    DUPLICATE = "duplicate"  # same content as an assigned slot; takes no slot
    EXCESS = "excess"  # arrived after the batch stopped being OPEN; recorded and counted
    PENDING = "pending"  # batch not registered yet; parked and replayed at registration
    PENDING_FULL = "pending_full"  # batch not registered and its parking is full; nothing recorded


S = TypeVar("S", SubmissionState, EssayState, BatchState)

_SUBMISSION_FINAL = frozenset(
    {SubmissionState.READY, SubmissionState.FAILED, SubmissionState.EXCESS, SubmissionState.DUPLICATE}
)

SUBMISSION_TRANSITIONS: dict[SubmissionState, frozenset[SubmissionState]] = {
    # FAILED or EXCESS straight from RECEIVED: processing gave up before it began (its retries ran out),
    # and the failure met an open batch (a slot) or a closed one (excess, like any late arrival).
    SubmissionState.RECEIVED: frozenset(
        {SubmissionState.PROCESSING, SubmissionState.FAILED, SubmissionState.EXCESS}
    ),
    SubmissionState.PROCESSING: _SUBMISSION_FINAL,
    SubmissionState.READY: frozenset(),
    SubmissionState.FAILED: frozenset(),
    SubmissionState.EXCESS: frozenset(),
    SubmissionState.DUPLICATE: frozenset(),
}

ESSAY_TRANSITIONS: dict[EssayState, frozenset[EssayState]] = {
    EssayState.AWAITING: frozenset({EssayState.READY, EssayState.FAILED, EssayState.MISSING}),
    EssayState.READY: frozenset({EssayState.ANALYSING}),
    EssayState.ANALYSING: frozenset({EssayState.ANALYSED, EssayState.ANALYSIS_FAILED}),
    EssayState.FAILED: frozenset(),
    EssayState.MISSING: frozenset(),
    EssayState.ANALYSED: frozenset(),
    EssayState.ANALYSIS_FAILED: frozenset(),
}

# FINALIZING lives in Redis only: SQL mirrors open, then sealed or expired, then done.
BATCH_TRANSITIONS: dict[BatchState, frozenset[BatchState]] = {
    BatchState.OPEN: frozenset(
        {BatchState.SEALED, BatchState.EXPIRED, BatchState.CLOSED, BatchState.CANCELLED}
    ),
    BatchState.SEALED: frozenset({BatchState.FINALIZING, BatchState.DONE}),
    BatchState.EXPIRED: frozenset({BatchState.FINALIZING, BatchState.DONE}),
    BatchState.CLOSED: frozenset({BatchState.FINALIZING, BatchState.DONE}),
    BatchState.CANCELLED: frozenset(),  # terminal in SQL: no report is ever written
    BatchState.FINALIZING: frozenset({BatchState.DONE}),
    BatchState.DONE: frozenset(),
}


# The states in which a batch has stopped taking slots and waits for its completion.
CLOSING_STATES = frozenset({BatchState.SEALED, BatchState.EXPIRED, BatchState.CLOSED, BatchState.CANCELLED})


def advance_batch(current: BatchState, target: BatchState) -> bool:
    """True when `current` → `target` changes state, False when it is already there; else raises."""
    return _advance("batch", BATCH_TRANSITIONS, current, target)


def advance_submission(current: SubmissionState, target: SubmissionState) -> bool:
    """True when `current` → `target` changes state, False when it is already there; else raises."""
    return _advance("submission", SUBMISSION_TRANSITIONS, current, target)


def advance_essay(current: EssayState, target: EssayState) -> bool:
    """True when `current` → `target` changes state, False when it is already there; else raises."""
    return _advance("essay", ESSAY_TRANSITIONS, current, target)


def _advance(kind: str, table: dict[S, frozenset[S]], current: S, target: S) -> bool:
    if current == target:
        return False
    if target in table[current]:
        return True
    raise InvalidTransitionError(
        f"a {kind} cannot go from {current.value} to {target.value}",
        details={"from": current.value, "to": target.value},
    )
