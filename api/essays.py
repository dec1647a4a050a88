"""The essay endpoint: one essay's state, batch, metrics and analysis."""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter, Request
from sqlalchemy import Engine

from api.auth import Owner
from api.schemas import ERROR_RESPONSES, EssayBody
from api.state import api_state
from coordinator.validation import check_id
from db.batches import load_batch
from db.essays import EssayRecord, load_essay
from db.session import unit_of_work
from els.errors import NotFoundError

router = APIRouter(prefix="/v1/essays", tags=["essays"], responses=ERROR_RESPONSES)


@router.get("/{essay_id}")
async def get_essay(essay_id: str, owner: Owner, request: Request) -> EssayBody:
    """The essay, if its batch is the caller's (another owner's essay is not found)."""
    check_id("essay_id", essay_id)
    essay = await anyio.to_thread.run_sync(_owned_essay, api_state(request).engine, essay_id, owner)
    if essay is None:
        raise NotFoundError(f"essay {essay_id} not found", details={"essay_id": essay_id})
    return EssayBody(
        essay_id=essay.essay_id,
        batch_id=essay.batch_id,
        position=essay.position,
        state=essay.state.value,
        submission_id=essay.submission_id,
        content_hash=essay.content_hash,
        metrics=essay.metrics,
        analysis=essay.analysis,
        error_code=essay.error_code,
        error_detail=essay.error_detail,
        updated_at=essay.updated_at,
    )


def _owned_essay(engine: Engine, essay_id: str, owner: str) -> EssayRecord | None:
    with unit_of_work(engine, read_only=True) as session:
        essay = load_essay(session, essay_id)
        if essay is None:
            return None
        batch = load_batch(session, essay.batch_id)
    return essay if batch is not None and batch.record.owner == owner else None
