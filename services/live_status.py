"""What an owner polls: a batch's live status from its counters (one HMGET, whatever its size), and its
slots a page at a time.

The status never reads a slot: state, counts and times come from the coordinator's counters, which the
Lua scripts keep as they consume slots. The slots are a separate, paginated read (slots.lua reads one
page by slot index), each slot tied to its SQL essay and the file that filled it.

Another owner's batch is answered exactly like one that does not exist; ids go out public.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from coordinator import BatchProgress, BatchState, SlotPage, now_ms
from coordinator.coordinator import MAX_SLOT_PAGE
from coordinator.cursor import MAX_SLOT_CURSOR_CHARS, decode_slot_cursor, encode_slot_cursor
from db.batches import StoredBatch, load_batch
from db.essays import list_batch_essays, list_batch_essays_at
from db.session import unit_of_work
from db.submissions import list_batch_submissions, load_submission_summaries
from els.errors import BatchGoneError, InvalidInputError, NotFoundError
from services.bounds import owned_id
from services.outages import outage_as_not_ready
from services.report_document import SlotView, build_document, live_state, page_slot_views
from services.runtime import Runtime

GONE = (BatchState.DONE, BatchState.CANCELLED)
MAX_CURSOR_CHARS = MAX_SLOT_CURSOR_CHARS  # what a slot listing's cursor can be at most, for the API's bound


@dataclass(frozen=True)
class BatchStatusView:
    """A batch's live status: state and counts, no slot.

    `missing`: slots nobody consumed once the batch stopped taking them (0 while it is open).
    """

    batch_id: str
    state: str  # the batch state; `expiring` once the deadline passed and the batch is not yet expired
    expected: int
    assigned: int
    failed: int
    excess: int
    duplicates: int
    missing: int
    created_at: datetime
    deadline_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class SlotListing:
    """A page of a batch's slots in slot order, and the cursor of the next page (None at the end)."""

    batch_id: str
    slots: tuple[SlotView, ...]
    next_cursor: str | None


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _not_found(batch_id: str) -> NotFoundError:
    return NotFoundError(f"batch {batch_id} not found", details={"batch_id": batch_id})


@outage_as_not_ready
def batch_status(runtime: Runtime, owner: str, batch_id: str) -> BatchStatusView:
    """The owner's batch's live status: one HMGET while Redis holds the batch.

    NotFoundError for an unknown or another owner's batch; BatchGoneError once a finished (DONE or
    cancelled) batch left Redis, pointing at its report. A batch SQL holds but Redis does not (yet) is
    answered from SQL.
    """
    key = owned_id(owner, "batch_id", batch_id)
    live = runtime.coordinator.progress(key)
    if live is not None:
        if live.owner != owner:
            raise _not_found(batch_id)
        return _from_counters(batch_id, live, now_ms())
    with unit_of_work(runtime.engine, read_only=True) as session:
        stored = _still_live(load_batch(session, key), owner, batch_id)
        essays = list_batch_essays(session, key)
        submissions = list_batch_submissions(session, key)
    document = build_document(stored, None, essays, submissions, None, at_ms=now_ms())
    return BatchStatusView(
        batch_id=batch_id,
        state=document.state,
        expected=document.expected,
        assigned=document.assigned,
        failed=document.failed,
        excess=document.excess,
        duplicates=document.duplicates,
        missing=len(document.missing_essay_ids),
        created_at=stored.record.registered_at,
        deadline_at=document.deadline_at,
        closed_at=document.closed_at,
    )


def _from_counters(batch_id: str, live: BatchProgress, at_ms: int) -> BatchStatusView:
    closed = live.state is not BatchState.OPEN
    return BatchStatusView(
        batch_id=batch_id,
        state=live_state(live.state, live.closed_as, live.deadline_ms, at_ms),
        expected=live.expected,
        assigned=live.assigned,
        failed=live.failed,
        excess=live.excess,
        duplicates=live.duplicates,
        missing=max(live.expected - live.settled, 0) if closed else 0,
        created_at=_at(live.created_ms),
        deadline_at=_at(live.deadline_ms),
        closed_at=None if live.closed_ms is None else _at(live.closed_ms),
    )


def _still_live(stored: StoredBatch | None, owner: str, batch_id: str) -> StoredBatch:
    # The SQL record of a batch Redis does not hold: the owner's, and not finished and gone.
    if stored is None or stored.record.owner != owner:
        raise _not_found(batch_id)
    if stored.state in GONE:
        report = f"/v1/batches/{batch_id}/report"
        done = stored.state is BatchState.DONE
        raise BatchGoneError(
            f"batch {batch_id} is done and its live state is gone; read its report at {report}"
            if done
            else f"batch {batch_id} was cancelled and its live state is gone",
            details={"batch_id": batch_id, "state": stored.state.value, "report": report},
        )
    return stored


@outage_as_not_ready
def batch_slots(runtime: Runtime, owner: str, batch_id: str, cursor: str | None, limit: int) -> SlotListing:
    """A page of at most `limit` of the owner's batch's slots, from `cursor` (None: the first slot).

    Each slot has its outcome, its file and its measures once analysed. The cursor and limit are checked
    before any read; NotFoundError for an unknown or another owner's batch. While Redis holds the batch
    the page comes from slots.lua; after (a finished batch past its retention), from SQL alone.
    """
    key = owned_id(owner, "batch_id", batch_id)
    if not 1 <= limit <= MAX_SLOT_PAGE:
        raise InvalidInputError(f"limit must be within 1..{MAX_SLOT_PAGE}", details={"field": "limit"})
    first = 0 if cursor is None else decode_slot_cursor(cursor, runtime.settings.max_expected_essays)
    page = runtime.coordinator.slot_page(key, cursor, limit)
    if page is not None and page.owner != owner:
        raise _not_found(batch_id)
    with unit_of_work(runtime.engine, read_only=True) as session:
        stored = load_batch(session, key)
        if stored is None or stored.record.owner != owner:
            raise _not_found(batch_id)
        count = limit if page is None else len(page.slots)
        essays = list_batch_essays_at(session, key, first, count) if count else []
        records = [] if page is None else [line.record for line in page.slots if line.record is not None]
        wanted = {record.submission_id for record in records}
        wanted.update(essay.submission_id for essay in essays if essay.submission_id is not None)
        submissions = load_submission_summaries(session, wanted)
    if page is None:
        following = first + len(essays)
        more = following < stored.record.expected_count and bool(essays)
        closed = stored.state is not BatchState.OPEN
        views = page_slot_views(essays, records, submissions, closed=closed, missing=set())
        return SlotListing(batch_id, views, encode_slot_cursor(following) if more else None)
    views = page_slot_views(
        essays, records, submissions, closed=page.state is not BatchState.OPEN, missing=_missing(page)
    )
    return SlotListing(batch_id, views, page.next_cursor)


def _missing(page: SlotPage) -> set[str]:
    # Slots at or past the consumed count, once the batch stopped taking slots, were never filled.
    if page.state is BatchState.OPEN:
        return set()
    return {line.essay_id for line in page.slots if line.position >= page.consumed}
