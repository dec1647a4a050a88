"""Batch endpoints: register, upload essays, live status, listing and the final report."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

import anyio.to_thread
from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy import Engine

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
from api.state import api_state
from api.uploads import UPLOAD_BODY_SCHEMA, read_uploads
from coordinator.validation import check_id
from db.batch_lifecycle import BatchState
from db.batches import StoredBatch, load_batch, load_report
from db.essays import EssayRecord, list_batch_essays
from db.session import unit_of_work
from els.errors import ConflictError, NotFoundError
from els.intake import BatchRequest, check_open_batch, register_batch, submit_essays
from els.jsontypes import JsonObject
from els.logs import log_context

router = APIRouter(prefix="/v1/batches", tags=["batches"], responses=ERROR_RESPONSES)


class BatchNotDoneError(ConflictError):
    """The batch has no final report yet."""

    code = "BATCH_NOT_DONE"


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _not_found(batch_id: str) -> NotFoundError:
    return NotFoundError(f"batch {batch_id} not found", details={"batch_id": batch_id})


@router.post("", status_code=201, response_model=BatchCreated)
async def create_batch(body: BatchCreate, owner: Owner, request: Request, response: Response) -> BatchCreated:
    """Register a batch; an identical replay answers 200 with the same body, a conflicting one 409."""
    state = api_state(request)
    correlation_id = correlation_id_of(request)
    with log_context(batch_id=body.batch_id):
        batch = await register_batch(
            state.intake,
            BatchRequest(
                owner=owner,
                correlation_id=correlation_id,
                batch_id=body.batch_id,
                essay_ids=None if body.essay_ids is None else tuple(body.essay_ids),
                expected_count=body.expected_count,
                course_code=body.course_code,
                language=body.language,
                deadline_seconds=body.deadline_seconds,
                metadata=body.metadata,
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
    """Store one or many uploads (multipart `files`, or JSON text) and enqueue their processing."""
    state = api_state(request)
    with log_context(batch_id=batch_id):
        # Refuse an unknown or finished batch before reading a byte of the body.
        await check_open_batch(state.intake, owner, batch_id)
        uploads = await read_uploads(request, state.settings)
        accepted = await submit_essays(
            state.intake,
            owner,
            batch_id,
            uploads,
            idempotency_key=idempotency_key,
            correlation_id=correlation_id_of(request),
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
async def batch_status(batch_id: str, owner: Owner, request: Request) -> BatchStatusBody:
    """Live state from the coordinator, with each essay's state from SQL."""
    state = api_state(request)
    check_id("batch_id", batch_id)
    status = await anyio.to_thread.run_sync(state.intake.coordinator.status, batch_id)
    if status is None or status.owner != owner:
        raise _not_found(batch_id)
    essays = await anyio.to_thread.run_sync(_essays_of, state.engine, batch_id)
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
            for essay in essays
        ],
    )


@router.get("")
async def list_batches(
    owner: Owner,
    request: Request,
    state: Annotated[Literal["active"], Query()] = "active",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> BatchList:
    """A page of the caller's batches that are not DONE yet; pass `next_cursor` back for the next."""
    coordinator = api_state(request).intake.coordinator
    page = await anyio.to_thread.run_sync(coordinator.list_active_batches, owner, cursor or None, limit)
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
async def batch_report(batch_id: str, owner: Owner, request: Request) -> BatchReport:
    """The final report of a DONE batch; 409 with the current state before that."""
    state = api_state(request)
    check_id("batch_id", batch_id)
    stored, report = await anyio.to_thread.run_sync(_report_of, state.engine, batch_id)
    if stored is None or stored.record.owner != owner:
        raise _not_found(batch_id)
    if stored.state is not BatchState.DONE or report is None:
        live = await anyio.to_thread.run_sync(state.intake.coordinator.status, batch_id)
        current = stored.state.value if live is None else live.state.value
        raise BatchNotDoneError(
            f"batch {batch_id} is {current}; its report is ready once it is done",
            details={"batch_id": batch_id, "state": current},
        )
    return BatchReport(batch_id=batch_id, report=report)


def _essays_of(engine: Engine, batch_id: str) -> list[EssayRecord]:
    with unit_of_work(engine, read_only=True) as session:
        return list_batch_essays(session, batch_id)


def _report_of(engine: Engine, batch_id: str) -> tuple[StoredBatch | None, JsonObject | None]:
    with unit_of_work(engine, read_only=True) as session:
        stored = load_batch(session, batch_id)
        if stored is None or stored.state is not BatchState.DONE:
            return stored, None
        return stored, load_report(session, batch_id)
