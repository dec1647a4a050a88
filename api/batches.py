"""Batch endpoints: register, upload essays, live status, its slots a page at a time, listing, close,
cancel, files and the report.

Routes only parse HTTP and call a service; plain `def` routes run in FastAPI's thread pool, and the
upload route reads its body on the event loop and hands the work to a worker thread.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

import anyio.to_thread
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import PlainTextResponse

from api.auth import Owner
from api.errors import correlation_id_of
from api.schemas import (
    ERROR_RESPONSES,
    BatchCreate,
    BatchCreated,
    BatchEnded,
    BatchLine,
    BatchList,
    BatchReport,
    BatchStatusBody,
    DuplicateBody,
    FileBody,
    Measures,
    ReportBody,
    SlotBody,
    SlotList,
    SubmissionAccepted,
    SubmissionList,
    SubmissionsAccepted,
)
from api.state import runtime_of
from api.uploads import UPLOAD_BODY_SCHEMA, read_uploads
from els.logs import log_context
from services import queries
from services.closing import EndedBatch, cancel_batch, close_batch
from services.intake import (
    BatchRequest,
    check_batch_owner,
    check_open_batch,
    register_batch,
    submit_essays,
)
from services.live_status import MAX_CURSOR_CHARS, batch_slots
from services.live_status import batch_status as live_status
from services.report_document import (
    DuplicatePair,
    FileView,
    SlotView,
    batch_document,
    batch_submissions,
    document_csv,
)

router = APIRouter(prefix="/v1/batches", tags=["batches"], responses=ERROR_RESPONSES)


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


@router.post("", status_code=201, response_model=BatchCreated, operation_id="register_batch")
def create_batch(body: BatchCreate, owner: Owner, request: Request, response: Response) -> BatchCreated:
    """Register a batch; an identical replay answers 200 with the same body, a conflicting one 409."""
    with log_context(batch_id=body.batch_id):
        batch = register_batch(
            runtime_of(request),
            BatchRequest(
                owner=owner,
                correlation_id=correlation_id_of(request),
                batch_id=body.batch_id,
                essay_ids=None if body.essay_ids is None else tuple(body.essay_ids),
                expected_count=body.expected_count,
                course_code=body.course_code,
                language=body.language,
                deadline_seconds=body.deadline_seconds,
                metadata=body.metadata,
                webhook_url=None if body.webhook is None else body.webhook.url,
                webhook_secret=None if body.webhook is None else body.webhook.secret,
            ),
        )
    if not batch.created:
        response.status_code = 200
    response.headers["Location"] = f"/v1/batches/{batch.batch_id}"
    return BatchCreated(
        batch_id=batch.batch_id,
        state=batch.state.value,
        essay_ids=list(batch.essay_ids),
        expected_count=len(batch.essay_ids),
        language=batch.language,
        course_code=batch.course_code,
        deadline_at=batch.deadline_at,
    )


@router.post(
    "/{batch_id}/essays", status_code=202, openapi_extra=UPLOAD_BODY_SCHEMA, operation_id="upload_essays"
)
async def upload_essays(
    batch_id: str,
    owner: Owner,
    request: Request,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> SubmissionsAccepted:
    """Store one or many uploads (multipart `files`, or JSON text) and enqueue their processing.

    A replayed Idempotency-Key answers what is stored, whatever the batch's state; new uploads need it OPEN.
    """
    runtime = runtime_of(request)
    # Checked before it is bound to any log line, and before a byte of the body is read: with nothing to
    # replay, the owner's OPEN batch in Redis (one HMGET); a replay may follow a finished batch, in SQL.
    check = check_open_batch if idempotency_key is None else check_batch_owner
    await anyio.to_thread.run_sync(check, runtime, owner, batch_id)
    with log_context(batch_id=batch_id):
        uploads = await read_uploads(request, runtime.settings)
        correlation_id = correlation_id_of(request)
        accepted = await anyio.to_thread.run_sync(
            lambda: submit_essays(
                runtime,
                owner,
                batch_id,
                uploads,
                idempotency_key=idempotency_key,
                correlation_id=correlation_id,
            )
        )
    return SubmissionsAccepted(
        batch_id=batch_id,
        submissions=[
            SubmissionAccepted(
                submission_id=item.submission_id, filename=item.filename, replayed=not item.created
            )
            for item in accepted
        ],
    )


@router.get("/{batch_id}", operation_id="get_batch")
def batch_status(batch_id: str, owner: Owner, request: Request) -> BatchStatusBody:
    """Live state and counts (no slot: see `/slots`); 410 BATCH_GONE once a finished batch's live state
    is gone.

    `state` is `expiring` once the deadline has passed while the batch is still closing.
    """
    view = live_status(runtime_of(request), owner, batch_id)
    return BatchStatusBody(
        batch_id=view.batch_id,
        state=view.state,
        expected=view.expected,
        assigned=view.assigned,
        failed=view.failed,
        excess=view.excess,
        duplicates=view.duplicates,
        missing=view.missing,
        created_at=view.created_at,
        deadline_at=view.deadline_at,
        closed_at=view.closed_at,
    )


@router.get("/{batch_id}/slots", operation_id="list_batch_slots")
def list_slots(
    batch_id: str,
    owner: Owner,
    request: Request,
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR_CHARS)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> SlotList:
    """A page of the batch's slots in slot order, each with its outcome, file and measures; pass
    `next_cursor` back for the next."""
    page = batch_slots(runtime_of(request), owner, batch_id, cursor or None, limit)
    return SlotList(
        batch_id=page.batch_id, slots=[slot_body(slot) for slot in page.slots], next_cursor=page.next_cursor
    )


@router.get("", operation_id="list_batches")
def list_batches(
    owner: Owner,
    request: Request,
    state: Annotated[Literal["active"], Query()] = "active",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> BatchList:
    """A page of the caller's batches that are not DONE yet; pass `next_cursor` back for the next."""
    page = queries.list_batches(runtime_of(request), owner, cursor or None, limit)
    return BatchList(
        batches=[
            BatchLine(
                batch_id=line.batch_id,
                state=line.state.value,
                expected=line.expected,
                assigned=line.assigned,
                failed=line.failed,
                excess=line.excess,
                created_at=_at(line.created_ms),
                deadline_at=_at(line.deadline_ms),
            )
            for line in page.batches
        ],
        next_cursor=page.next_cursor,
    )


@router.get("/{batch_id}/report", operation_id="get_batch_report")
def batch_report(batch_id: str, owner: Owner, request: Request) -> BatchReport:
    """The final report of a DONE batch, every slot tied to its file; 409 with the current state before."""
    runtime = runtime_of(request)
    report = ReportBody.model_validate(queries.batch_report(runtime, owner, batch_id))
    document = batch_document(runtime, owner, batch_id)
    return BatchReport(
        batch_id=batch_id,
        state=document.state,
        report=report,
        slots=[slot_body(slot) for slot in document.slots],
        files_received=[file_body(item) for item in document.files],
        files_refused=[file_body(item) for item in document.refused],
        duplicates=[duplicate_body(pair) for pair in document.duplicate_pairs],
        excess_files=[file_body(item) for item in document.excess_files],
        missing_essay_ids=list(document.missing_essay_ids),
    )


@router.get(
    "/{batch_id}/report.csv",
    operation_id="get_batch_report_csv",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "CSV"}},
)
def batch_report_csv(batch_id: str, owner: Owner, request: Request) -> PlainTextResponse:
    """One row per slot (essay id, filename, outcome, state, code, message, measures), safe to open in a
    spreadsheet; measures are filled once the batch is analysed."""
    document = batch_document(runtime_of(request), owner, batch_id)
    return PlainTextResponse(
        document_csv(document),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{batch_id}.csv"'},
    )


@router.post("/{batch_id}/close", operation_id="close_batch")
def close(batch_id: str, owner: Owner, request: Request) -> BatchEnded:
    """Close the batch now: it seals with its missing slots named and goes on to its report.

    Uploads still being processed take no slot (excess). Idempotent: a repeat answers the same, with
    `replayed`; 409 BATCH_NOT_OPEN when the batch ended another way.
    """
    return ended_body(close_batch(runtime_of(request), owner, batch_id))


@router.post("/{batch_id}/cancel", operation_id="cancel_batch")
def cancel(batch_id: str, owner: Owner, request: Request) -> BatchEnded:
    """Cancel the batch: no analysis, no report, no more uploads; `batch.cancelled` is published once.

    Idempotent: a repeat answers the same, with `replayed`; 409 BATCH_NOT_OPEN when it ended another way.
    """
    return ended_body(cancel_batch(runtime_of(request), owner, batch_id))


@router.get("/{batch_id}/submissions", operation_id="list_batch_submissions")
def list_submissions(
    batch_id: str,
    owner: Owner,
    request: Request,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> SubmissionList:
    """A page of the batch's uploads in arrival order, each with its outcome."""
    page = batch_submissions(runtime_of(request), owner, batch_id, offset, limit)
    return SubmissionList(
        batch_id=batch_id,
        submissions=[file_body(item) for item in page.files],
        total=page.total,
        next_offset=page.next_offset,
    )


def file_body(item: FileView) -> FileBody:
    """The API shape of one file."""
    return FileBody(
        submission_id=item.submission_id,
        batch_id=item.batch_id,
        filename=item.filename,
        size=item.size,
        media_type=item.media_type,
        received_at=item.received_at,
        outcome=item.outcome,
        essay_id=item.essay_id,
        code=item.code,
        message=item.message,
        duplicate_of_filename=item.duplicate_of_filename,
    )


def slot_body(slot: SlotView) -> SlotBody:
    """The API shape of one slot."""
    return SlotBody(
        essay_id=slot.essay_id,
        position=slot.position,
        state=slot.state,
        outcome=slot.outcome,
        code=slot.code,
        message=slot.message,
        file=None if slot.file is None else file_body(slot.file),
        measures=None if slot.measures is None else Measures.model_validate(slot.measures),
    )


def duplicate_body(pair: DuplicatePair) -> DuplicateBody:
    """The API shape of one duplicate pair."""
    return DuplicateBody(
        file=file_body(pair.file), of_essay_id=pair.of_essay_id, of_filename=pair.of_filename
    )


def ended_body(ended: EndedBatch) -> BatchEnded:
    """The API shape of a closed or cancelled batch."""
    return BatchEnded(
        batch_id=ended.batch_id,
        state=ended.state.value,
        current_state=ended.current_state.value,
        replayed=ended.replayed,
        missing_essay_ids=list(ended.missing_essay_ids),
        closed_at=ended.closed_at,
    )
