"""Batch endpoints: register, upload essays, live status, listing and the final report.

Routes only parse HTTP and call a service; plain `def` routes run in FastAPI's thread pool, and the
upload route reads its body on the event loop and hands the work to a worker thread.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

import anyio.to_thread
from fastapi import APIRouter, Header, Query, Request, Response

from api.auth import Owner
from api.errors import correlation_id_of
from api.schemas import (
    ERROR_RESPONSES,
    BatchCreate,
    BatchCreated,
    BatchLine,
    BatchList,
    BatchReport,
    BatchStatusBody,
    EssayStatus,
    SubmissionAccepted,
    SubmissionsAccepted,
)
from api.state import runtime_of
from api.uploads import UPLOAD_BODY_SCHEMA, read_uploads
from els.logs import log_context
from services import queries
from services.intake import (
    BatchRequest,
    check_batch_owner,
    check_open_batch,
    register_batch,
    submit_essays,
)

router = APIRouter(prefix="/v1/batches", tags=["batches"], responses=ERROR_RESPONSES)


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


@router.post("", status_code=201, response_model=BatchCreated)
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
    return BatchCreated(
        batch_id=batch.batch_id,
        state=batch.state.value,
        essay_ids=list(batch.essay_ids),
        expected_count=len(batch.essay_ids),
        language=batch.language,
        course_code=batch.course_code,
        deadline_at=batch.deadline_at,
    )


@router.post("/{batch_id}/essays", status_code=202, openapi_extra=UPLOAD_BODY_SCHEMA)
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
    # Checked before it is bound to any log line; the owner is checked before a byte of the body is read.
    await anyio.to_thread.run_sync(check_batch_owner, runtime, owner, batch_id)
    with log_context(batch_id=batch_id):
        if idempotency_key is None:
            # Nothing to replay: an unknown or finished batch is refused before the body is read too.
            await anyio.to_thread.run_sync(check_open_batch, runtime, owner, batch_id)
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


@router.get("/{batch_id}")
def batch_status(batch_id: str, owner: Owner, request: Request) -> BatchStatusBody:
    """Live state from the coordinator, with each essay's state from SQL."""
    view = queries.batch_view(runtime_of(request), owner, batch_id)
    status = view.status
    return BatchStatusBody(
        batch_id=batch_id,
        state=status.state.value,
        expected=status.expected,
        assigned=status.assigned,
        failed=status.failed,
        excess=status.excess,
        duplicates=status.duplicates,
        missing_essay_ids=list(status.missing_essay_ids),
        deadline_at=_at(status.deadline_ms),
        essays=[
            EssayStatus(
                essay_id=essay.essay_id,
                position=essay.position,
                state=essay.state.value,
                submission_id=essay.submission_id,
                error_code=essay.error_code,
            )
            for essay in view.essays
        ],
    )


@router.get("")
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


@router.get("/{batch_id}/report")
def batch_report(batch_id: str, owner: Owner, request: Request) -> BatchReport:
    """The final report of a DONE batch; 409 with the current state before that."""
    return BatchReport(batch_id=batch_id, report=queries.batch_report(runtime_of(request), owner, batch_id))
