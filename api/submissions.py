"""The submission endpoint: one upload of one of the caller's batches, with what became of it."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.auth import Owner
from api.batches import file_body
from api.schemas import ERROR_RESPONSES, FileBody
from api.state import runtime_of
from services.report_document import owned_submission

router = APIRouter(prefix="/v1/submissions", tags=["submissions"], responses=ERROR_RESPONSES)


@router.get("/{submission_id}", operation_id="get_submission")
def get_submission(submission_id: str, owner: Owner, request: Request) -> FileBody:
    """The upload, if its batch is the caller's (another owner's upload is not found)."""
    return file_body(owned_submission(runtime_of(request), owner, submission_id))
