"""The coordinator's typed results (batch states and slot outcomes live in essays/lifecycle.py)."""

from __future__ import annotations

from dataclasses import dataclass

from essays.lifecycle import BatchState, Outcome


@dataclass(frozen=True, slots=True)
class RegisterResult:
    """A registration: created now or replayed; `sealed` tells this caller alone to fire completion."""

    batch_id: str
    created: bool
    state: BatchState
    sealed: bool
    pending_replayed: int


@dataclass(frozen=True, slots=True)
class ReceiveResult:
    """The answer to `receive`: whether a request's uploads were received in time, each keeping a right to
    a slot, or none was.

    `refusal` says why not: `unknown` (no such batch), `closed` (`state` says what it is) or `late` (the
    deadline has passed). `replayed`: every receipt was recorded by an earlier call, and nothing changed.
    `received_ms`: the server's instant of this call's receipts (of the first one's earlier receipt, on a
    replay).
    """

    batch_id: str
    received: bool
    replayed: bool
    refusal: str | None
    state: BatchState | None
    deadline_ms: int | None
    received_ms: int | None


@dataclass(frozen=True, slots=True)
class SlotResult:
    """The result of `claim` or `fail`.

    `sealed` is True for exactly one caller per batch: the one whose call closed it, by consuming its last
    slot or by arriving after its deadline (the batch then expires at once); that caller completes it.
    """

    batch_id: str
    submission_id: str
    outcome: Outcome
    essay_id: str | None
    slot: int | None
    sealed: bool
    replayed: bool
    state: BatchState | None
    code: str | None = None  # FAILED: the code and detail Redis recorded first, on every replay too
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class ExpiredBatch:
    """A batch this call moved from OPEN to EXPIRED (its status names the slots nobody consumed)."""

    batch_id: str
    owner: str
    expected: int
    assigned: int
    failed: int
    correlation_id: str


@dataclass(frozen=True, slots=True)
class EndResult:
    """The answer to `close` or `cancel`.

    `ended`: the batch is closed (or cancelled) by its owner, by this call or, with `replayed`, an earlier
    one. `found` False: no such batch, or another owner's. Otherwise `state` says how it stopped instead.
    `missing_essay_ids` are the slots nobody consumed, the same on every replay.
    """

    batch_id: str
    found: bool
    ended: bool
    replayed: bool
    state: BatchState | None
    missing_essay_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FinalizeTicket:
    """The answer to `begin_finalize`: `acquired` with a `token` for the one caller that may finalize."""

    batch_id: str
    acquired: bool
    token: str | None
    state: BatchState | None
    taken_over: bool


@dataclass(frozen=True, slots=True)
class StuckBatch:
    """A batch sealed, expired or finalizing for too long, handed out for a re-kick.

    `vanished` (with no state): the batch was in the stuck index but its keys are gone, so it can never
    finish; it is handed out once, to be reported.
    """

    batch_id: str
    state: BatchState | None
    vanished: bool = False


@dataclass(frozen=True, slots=True)
class SlotRecord:
    """How one slot was consumed: by an assignment, or by a final failure (with its code and detail)."""

    essay_id: str
    slot: int
    submission_id: str
    outcome: Outcome
    code: str | None
    detail: str | None
    at_ms: int


@dataclass(frozen=True, slots=True)
class BatchStatus:
    """Everything live about one batch, read in one round trip."""

    batch_id: str
    state: BatchState
    closed_as: BatchState | None  # SEALED, EXPIRED, CLOSED or CANCELLED once it stopped taking slots
    owner: str
    expected: int
    assigned: int
    failed: int
    excess: int
    duplicates: int
    slots: tuple[str, ...]
    records: tuple[SlotRecord, ...]  # in slot order
    missing_essay_ids: tuple[str, ...]
    deadline_ms: int
    created_ms: int
    state_changed_ms: int
    closed_ms: int | None  # when it sealed or expired (state_changed_ms moves on at FINALIZING and DONE)
    correlation_id: str
    metadata_json: str


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """One line of a batch listing."""

    batch_id: str
    owner: str
    state: BatchState
    expected: int
    assigned: int
    failed: int
    excess: int
    created_ms: int
    deadline_ms: int


@dataclass(frozen=True, slots=True)
class BatchPage:
    """A page of not-DONE batches and the cursor of the next page (None at the end)."""

    batches: tuple[BatchSummary, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ShardFigures:
    """What one shard's indexes count right now (gauges.lua)."""

    open_batches: int
    overdue_batches: int
    oldest_created_ms: int | None
    finishing_batches: int
    stuck_batches: int
    parked_arrivals: int


@dataclass(frozen=True, slots=True)
class LiveFigures:
    """The coordinator's gauges over every shard, and the claims parked for batches not registered yet."""

    open_batches: int
    overdue_batches: int
    oldest_created_ms: int | None
    finishing_batches: int
    stuck_batches: int
    parked_arrivals: int


@dataclass(frozen=True, slots=True)
class BatchProgress:
    """A batch's state and counters, read in one HMGET: what a poller needs, O(1) whatever its size."""

    batch_id: str
    owner: str
    state: BatchState
    expected: int
    assigned: int
    failed: int
    excess: int
    duplicates: int
    closed_as: BatchState | None  # SEALED, EXPIRED, CLOSED or CANCELLED once it stopped taking slots
    deadline_ms: int
    created_ms: int
    closed_ms: int | None
    correlation_id: str

    @property
    def settled(self) -> int:
        """Slots consumed: assigned or failed."""
        return self.assigned + self.failed


@dataclass(frozen=True, slots=True)
class BatchGate:
    """What intake checks before it stores an upload: whose batch it is, its state and its deadline
    (`late`: passed by the server's clock)."""

    batch_id: str
    owner: str
    state: BatchState
    deadline_ms: int
    late: bool


@dataclass(frozen=True, slots=True)
class SlotLine:
    """One slot of a page: its index, its essay id, and how it was consumed (None: not yet)."""

    position: int
    essay_id: str
    record: SlotRecord | None


@dataclass(frozen=True, slots=True)
class SlotPage:
    """A page of a batch's slots in slot order, the counts read with it, and the next page's cursor.

    `consumed` is assigned + failed: slots at or past it are not consumed (awaiting while the batch is
    OPEN, missing once it stopped taking slots). `next_cursor` is None on the last page.
    """

    batch_id: str
    owner: str
    state: BatchState
    expected: int
    consumed: int
    slots: tuple[SlotLine, ...]
    next_cursor: str | None
