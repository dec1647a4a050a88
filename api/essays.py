"""The essay endpoint: one essay's state, batch, metrics and analysis."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.auth import Owner
from api.schemas import ERROR_RESPONSES, EssayBody
from api.state import runtime_of
from services.queries import owned_essay

router = APIRouter(prefix="/v1/essays", tags=["essays"], responses=ERROR_RESPONSES)


@router.get("/{essay_id}", operation_id="get_essay")
def get_essay(essay_id: str, owner: Owner, request: Request) -> EssayBody:
    """The essay, if its batch is the caller's (another owner's essay is not found)."""
    essay = owned_essay(runtime_of(request), owner, essay_id)
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
