"""What an owner reads about a batch, every slot tied to the file that filled it.

`batch_document` builds one view for the report, the CSV and the command line alike (the live status
and its pages of slots are `services/live_status.py`, which reuse the slot views here): each slot with its
outcome and the upload behind it (submission id, original filename, size, media type, arrival time),
the files received, the files refused with their reasons, duplicates as pairs (this file, the slot and
file it repeats), files that came too late (excess), and the expected essays still missing.

Sources, each for what it decides: the coordinator (Redis) for the live state and how each slot was
consumed, SQL for the files and each essay's analysis, and the stored report once the batch is DONE.
Another owner's batch or submission is answered exactly like one that does not exist.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from coordinator import BatchState, BatchStatus, Outcome, SlotRecord, now_ms
from db.batches import StoredBatch, load_batch, load_report
from db.essays import EssayRecord, list_batch_essays
from db.session import unit_of_work
from db.submissions import (
    SubmissionSummary,
    count_batch_submissions,
    list_batch_submissions,
    load_submission_summary,
)
from els.errors import InvalidInputError, NotFoundError
from els.ids import public_id, public_object
from els.jsontypes import JsonObject, JsonValue
from essays.lifecycle import EssayState, SubmissionState
from services.bounds import check_plain_id, owned_id
from services.outages import outage_as_not_ready
from services.runtime import Runtime

MAX_PAGE = 500

# What a person reads for each stable code, when the failure carried no detail of its own.
_MESSAGES = {
    "EMPTY_CONTENT": "the file is empty or holds no words",
    "CONTENT_TOO_SHORT": "the essay is too short",
    "CONTENT_TOO_LONG": "the essay is too long",
    "UNSUPPORTED_TYPE": "not a text, Markdown, .docx or PDF file",
    "TEXT_EXTRACTION_FAILED": "the file could not be read",
    "ENCRYPTED_FILE": "the PDF is password-protected",
    "PROCESSING_FAILED": "processing the file failed",
    "PROCESSING_CRASHED": "processing the file failed repeatedly",
    "ANALYSIS_FAILED": "analysing the essay failed",
    "ANALYSIS_TIMEOUT": "analysing the essay took too long",
    "ANALYSIS_NOT_RUN": "the essay was never analysed",
}

MEASURES = (
    "words",
    "readability",
    "spelling_errors_per_100_words",
    "type_token_ratio",
    "mtld",
    "mean_sentence_length",
    "mattr",
    # last: columns added later go after the ones spreadsheets already read by position
    "detected_language",
    "warnings",
)


def message_for(code: str | None, detail: str | None) -> str | None:
    """A human message for a failure: its own detail, else the code's usual wording."""
    if detail:
        return detail
    return None if code is None else _MESSAGES.get(code, code.replace("_", " ").lower())


@dataclass(frozen=True)
class FileView:
    """One upload as its owner sees it, with what became of it."""

    submission_id: str
    batch_id: str
    filename: str
    size: int
    media_type: str
    received_at: datetime
    outcome: str  # received | processing | assigned | failed | duplicate | excess
    essay_id: str | None  # the slot it took or failed in, or the slot it duplicates
    code: str | None
    message: str | None
    duplicate_of_filename: str | None = None


@dataclass(frozen=True)
class SlotView:
    """One expected essay: its outcome, the file behind it, and its measures once analysed."""

    essay_id: str
    position: int
    state: str  # the essay's state: awaiting, ready, failed, missing, analysing, analysed, analysis_failed
    outcome: str  # assigned | failed | missing | awaiting (not filled yet while the batch is open)
    code: str | None
    message: str | None
    file: FileView | None
    measures: JsonObject | None


@dataclass(frozen=True)
class DuplicatePair:
    """A file whose content already holds a slot: this file, and the slot and file it repeats."""

    file: FileView
    of_essay_id: str
    of_filename: str | None


@dataclass(frozen=True)
class BatchDocument:
    """Everything an owner reads about one batch."""

    batch_id: str
    state: str  # the batch state; `expiring` once the deadline passed and the batch is not yet expired
    expected: int
    assigned: int
    failed: int
    excess: int
    duplicates: int
    deadline_at: datetime
    closed_at: datetime | None
    language: str
    course_code: str | None
    slots: tuple[SlotView, ...]
    files: tuple[FileView, ...]
    refused: tuple[FileView, ...]
    duplicate_pairs: tuple[DuplicatePair, ...]
    excess_files: tuple[FileView, ...]
    missing_essay_ids: tuple[str, ...]
    report: JsonObject | None  # the stored report of a DONE batch

    @property
    def means(self) -> JsonObject:
        """The report's batch means ({} before the report)."""
        means = None if self.report is None else self.report.get("means")
        return means if isinstance(means, dict) else {}

    @property
    def counts(self) -> JsonObject:
        """The report's counts ({} before the report)."""
        counts = None if self.report is None else self.report.get("counts")
        return counts if isinstance(counts, dict) else {}


def live_state(state: BatchState, closed_as: BatchState | None, deadline_ms: int, at_ms: int) -> str:
    """The state an owner is shown of a batch Redis holds: never `open` past the deadline (`expiring`),
    `cancelled` for good once cancelled."""
    if closed_as is BatchState.CANCELLED:
        return BatchState.CANCELLED.value
    if state is BatchState.OPEN and at_ms >= deadline_ms:
        return "expiring"
    return state.value


def display_state(status: BatchStatus | None, stored: StoredBatch, at_ms: int) -> str:
    """The state an owner is shown: as `live_state`, or SQL's once Redis no longer holds the batch."""
    if stored.state is BatchState.CANCELLED:
        return BatchState.CANCELLED.value
    if status is None:
        return stored.state.value
    return live_state(status.state, status.closed_as, status.deadline_ms, at_ms)


@outage_as_not_ready
def batch_document(runtime: Runtime, owner: str, batch_id: str) -> BatchDocument:
    """The owner's batch, slot by slot; NotFoundError for an unknown or another owner's batch."""
    key = owned_id(owner, "batch_id", batch_id)
    status = runtime.coordinator.status(key)
    with unit_of_work(runtime.engine, read_only=True) as session:
        stored = load_batch(session, key)
        if stored is None or stored.record.owner != owner:
            raise NotFoundError(f"batch {batch_id} not found", details={"batch_id": batch_id})
        essays = list_batch_essays(session, key)
        submissions = list_batch_submissions(session, key)
        report = load_report(session, key) if stored.state is BatchState.DONE else None
    if status is not None and status.owner != owner:
        raise NotFoundError(f"batch {batch_id} not found", details={"batch_id": batch_id})
    return build_document(stored, status, essays, submissions, report, at_ms=now_ms())


def build_document(
    stored: StoredBatch,
    status: BatchStatus | None,
    essays: Sequence[EssayRecord],
    submissions: Sequence[SubmissionSummary],
    report: JsonObject | None,
    *,
    at_ms: int,
) -> BatchDocument:
    """The document from what Redis, SQL and the report say (pure: no I/O), in the owner's public ids."""
    by_submission = {item.submission_id: item for item in submissions}
    records = {record.essay_id: record for record in status.records} if status is not None else {}
    rows = _report_rows(report)
    holder_file: dict[str, str] = {}
    for essay in essays:
        record = records.get(essay.essay_id)
        submission_id = record.submission_id if record is not None else essay.submission_id
        holder = by_submission.get(submission_id or "")
        if holder is not None:
            holder_file[essay.essay_id] = holder.filename
    files = tuple(_file(item, holder_file) for item in submissions)
    file_of = {item.submission_id: item for item in files}
    closed = status is None or status.state is not BatchState.OPEN
    missing = set(status.missing_essay_ids) if status is not None and closed else set()
    slots = tuple(_slot(essay, records, rows, file_of, missing, closed=closed) for essay in essays)
    missing_ids = tuple(slot.essay_id for slot in slots if slot.outcome == "missing")
    return BatchDocument(
        batch_id=public_id(stored.record.batch_id),
        state=display_state(status, stored, at_ms),
        expected=len(essays),
        assigned=sum(1 for slot in slots if slot.outcome == "assigned"),
        failed=sum(1 for slot in slots if slot.outcome == "failed"),
        excess=status.excess if status is not None else sum(1 for f in files if f.outcome == "excess"),
        duplicates=status.duplicates
        if status is not None
        else sum(1 for f in files if f.outcome == "duplicate"),
        deadline_at=stored.record.deadline_at,
        closed_at=_closed_at(status, stored),
        language=stored.record.language,
        course_code=stored.record.course_code,
        slots=slots,
        files=files,
        refused=tuple(item for item in files if item.outcome == "failed"),
        duplicate_pairs=tuple(
            DuplicatePair(item, item.essay_id, item.duplicate_of_filename)
            for item in files
            if item.outcome == "duplicate" and item.essay_id is not None
        ),
        excess_files=tuple(item for item in files if item.outcome == "excess"),
        missing_essay_ids=missing_ids,
        report=None if report is None else public_object(report, stored.record.owner),
    )


def page_slot_views(
    essays: Sequence[EssayRecord],
    records: Sequence[SlotRecord],
    submissions: Sequence[SubmissionSummary],
    *,
    closed: bool,
    missing: set[str],
) -> tuple[SlotView, ...]:
    """Views of some of a batch's slots (a page of them), from their SQL essays, the Redis records of
    the consumed ones and the submissions behind them (pure: no I/O), in the owner's public ids.

    `missing`: the page's scoped essay ids that no upload consumed before the batch closed.
    """
    by_essay = {record.essay_id: record for record in records}
    files = {item.submission_id: _file(item, {}) for item in submissions}
    return tuple(_slot(essay, by_essay, {}, files, missing, closed=closed) for essay in essays)


def _closed_at(status: BatchStatus | None, stored: StoredBatch) -> datetime | None:
    if status is not None and status.closed_ms is not None:
        return datetime.fromtimestamp(status.closed_ms / 1000, UTC)
    return stored.closed_at


_SUBMISSION_OUTCOMES = {
    SubmissionState.RECEIVED: "received",
    SubmissionState.PROCESSING: "processing",
    SubmissionState.READY: "assigned",
    SubmissionState.FAILED: "failed",
    SubmissionState.DUPLICATE: "duplicate",
    SubmissionState.EXCESS: "excess",
}


def _file(item: SubmissionSummary, holder_file: dict[str, str]) -> FileView:
    duplicate = item.state is SubmissionState.DUPLICATE
    return FileView(
        submission_id=item.submission_id,
        batch_id=public_id(item.batch_id),
        filename=item.filename,
        size=item.size,
        media_type=item.media_type,
        received_at=item.received_at,
        outcome=_SUBMISSION_OUTCOMES[item.state],
        essay_id=None if item.essay_id is None else public_id(item.essay_id),
        code=item.error_code,
        message=message_for(item.error_code, item.error_detail)
        if item.state is SubmissionState.FAILED
        else None,
        duplicate_of_filename=holder_file.get(item.essay_id or "") if duplicate else None,
    )


def _report_rows(report: JsonObject | None) -> dict[str, JsonObject]:
    essays = None if report is None else report.get("essays")
    rows: dict[str, JsonObject] = {}
    for row in essays if isinstance(essays, list) else []:
        if isinstance(row, dict) and isinstance(row.get("essay_id"), str):
            rows[str(row["essay_id"])] = row
    return rows


def _slot(
    essay: EssayRecord,
    records: dict[str, SlotRecord],
    rows: dict[str, JsonObject],
    file_of: dict[str, FileView],
    missing: set[str],
    *,
    closed: bool,
) -> SlotView:
    record = records.get(essay.essay_id)
    row = rows.get(essay.essay_id)
    submission_id = record.submission_id if record is not None else essay.submission_id
    file = file_of.get(submission_id) if submission_id is not None else None
    code: str | None = essay.error_code
    detail: str | None = essay.error_detail
    outcome_value = None if record is None else record.outcome
    if record is not None and outcome_value is Outcome.FAILED:
        outcome = "failed"
        code = record.code or code
        detail = record.detail or detail
    elif outcome_value is Outcome.ASSIGNED:
        outcome = "assigned"
    elif essay.state is EssayState.FAILED:
        outcome = "failed"
    elif essay.submission_id is not None:
        outcome = "assigned"
    elif essay.essay_id in missing or essay.state is EssayState.MISSING or (closed and row is not None):
        outcome = "missing"
    else:
        outcome = "awaiting" if not closed else "missing"
    state = essay.state.value
    measures: JsonObject | None = None
    if row is not None:
        state = str(row.get("status") or state)
        code = _text(row.get("code")) or code
        detail = _text(row.get("message")) or detail
        analysis = row.get("analysis")
        if isinstance(analysis, dict):
            measures = {name: analysis.get(name) for name in MEASURES}
    elif essay.analysis is not None:
        measures = {name: essay.analysis.get(name) for name in MEASURES}
    if outcome == "missing":
        state = EssayState.MISSING.value
    return SlotView(
        essay_id=public_id(essay.essay_id),
        position=essay.position,
        state=state,
        outcome=outcome,
        code=code if outcome != "assigned" or state == EssayState.ANALYSIS_FAILED.value else None,
        message=message_for(code, detail)
        if code and (outcome == "failed" or state == EssayState.ANALYSIS_FAILED.value)
        else None,
        file=file,
        measures=measures,
    )


def _text(value: JsonValue | None) -> str | None:
    return value if isinstance(value, str) and value else None


# -- submissions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmissionPage:
    """A page of a batch's files, in arrival order."""

    files: tuple[FileView, ...]
    total: int
    offset: int
    limit: int

    @property
    def next_offset(self) -> int | None:
        """The offset of the next page, None at the end."""
        following = self.offset + len(self.files)
        return following if following < self.total else None


@outage_as_not_ready
def batch_submissions(runtime: Runtime, owner: str, batch_id: str, offset: int, limit: int) -> SubmissionPage:
    """A page of the owner's batch's files with their outcomes."""
    key = owned_id(owner, "batch_id", batch_id)
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise InvalidInputError(
            f"offset must be >= 0 and limit within 1..{MAX_PAGE}", details={"field": "limit"}
        )
    with unit_of_work(runtime.engine, read_only=True) as session:
        stored = load_batch(session, key)
        if stored is None or stored.record.owner != owner:
            raise NotFoundError(f"batch {batch_id} not found", details={"batch_id": batch_id})
        page = list_batch_submissions(session, key, offset=offset, limit=limit)
        total = count_batch_submissions(session, key)
        holders = _holder_files(session, key, page)
    return SubmissionPage(tuple(_file(item, holders) for item in page), total, offset, limit)


@outage_as_not_ready
def owned_submission(runtime: Runtime, owner: str, submission_id: str) -> FileView:
    """One of the owner's files with its outcome; NotFoundError for another owner's or none."""
    check_plain_id("submission_id", submission_id)
    with unit_of_work(runtime.engine, read_only=True) as session:
        item = load_submission_summary(session, submission_id)
        batch = None if item is None else load_batch(session, item.batch_id)
        if item is None or batch is None or batch.record.owner != owner:
            raise NotFoundError(
                f"submission {submission_id} not found", details={"submission_id": submission_id}
            )
        holders = _holder_files(session, item.batch_id, [item])
    return _file(item, holders)


def _holder_files(session: Session, batch_id: str, items: Sequence[SubmissionSummary]) -> dict[str, str]:
    # The filename holding each slot a duplicate in `items` repeats.
    wanted = {item.essay_id for item in items if item.state is SubmissionState.DUPLICATE and item.essay_id}
    if not wanted:
        return {}
    holders: dict[str, str] = {}
    for other in list_batch_submissions(session, batch_id):
        if other.essay_id in wanted and other.state in (SubmissionState.READY, SubmissionState.FAILED):
            holders[other.essay_id] = other.filename
    return holders


# -- CSV ----------------------------------------------------------------------------------------------

CSV_COLUMNS = ("essay_id", "filename", "outcome", "state", "code", "message", *MEASURES)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """A cell a spreadsheet will not run: text starting with = + - @, a tab or CR gets a leading quote."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def document_csv(document: BatchDocument) -> str:
    """One row per slot, in slot order: essay id, filename, outcome, state, code, message and measures."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for slot in document.slots:
        measures = slot.measures or {}
        cells = [
            slot.essay_id,
            slot.file.filename if slot.file is not None else "",
            slot.outcome,
            slot.state,
            slot.code or "",
            slot.message or "",
            *(_cell(measures.get(name)) for name in MEASURES),
        ]
        writer.writerow([safe_cell(cell) for cell in cells])
    return buffer.getvalue()


def _cell(value: JsonValue | None) -> str:
    if isinstance(value, list):
        return " ".join(item for item in value if isinstance(item, str))  # warning codes
    if value is None or isinstance(value, bool | dict):
        return ""
    return str(value)


# -- JSON -----------------------------------------------------------------------------------------------


def file_json(item: FileView) -> JsonObject:
    """One file as JSON."""
    return {
        "submission_id": item.submission_id,
        "batch_id": item.batch_id,
        "filename": item.filename,
        "size": item.size,
        "media_type": item.media_type,
        "received_at": item.received_at.isoformat(),
        "outcome": item.outcome,
        "essay_id": item.essay_id,
        "code": item.code,
        "message": item.message,
        "duplicate_of_filename": item.duplicate_of_filename,
    }


def document_json(document: BatchDocument) -> JsonObject:
    """The whole document as JSON (what `els batch report --json` prints)."""
    return {
        "batch_id": document.batch_id,
        "state": document.state,
        "expected": document.expected,
        "assigned": document.assigned,
        "failed": document.failed,
        "excess": document.excess,
        "duplicates": document.duplicates,
        "deadline_at": document.deadline_at.isoformat(),
        "closed_at": None if document.closed_at is None else document.closed_at.isoformat(),
        "slots": [
            {
                "essay_id": slot.essay_id,
                "position": slot.position,
                "state": slot.state,
                "outcome": slot.outcome,
                "code": slot.code,
                "message": slot.message,
                "file": None if slot.file is None else file_json(slot.file),
                "measures": slot.measures,
            }
            for slot in document.slots
        ],
        "files_received": [file_json(item) for item in document.files],
        "files_refused": [file_json(item) for item in document.refused],
        "duplicates_of": [
            {"file": file_json(pair.file), "of_essay_id": pair.of_essay_id, "of_filename": pair.of_filename}
            for pair in document.duplicate_pairs
        ],
        "excess_files": [file_json(item) for item in document.excess_files],
        "missing_essay_ids": list(document.missing_essay_ids),
        "report": document.report,
    }
