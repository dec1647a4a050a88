"""A class's essays as one ZIP archive: `POST /v1/batches/{batch_id}/archive`."""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Header, Request

from api.auth import Owner
from api.errors import correlation_id_of
from api.schemas import ERROR_RESPONSES, ArchiveAccepted, MemberRefused, MemberSkipped, SubmissionAccepted
from api.state import runtime_of
from els.errors import PayloadTooLargeError, UnsupportedMediaTypeError
from els.logs import log_context
from services.archive_intake import submit_archive
from services.intake import check_batch_owner, check_open_batch

router = APIRouter(prefix="/v1/batches", tags=["batches"], responses=ERROR_RESPONSES)

ARCHIVE_TYPES = frozenset({"application/zip", "application/x-zip-compressed", "application/octet-stream"})
ARCHIVE_BODY: dict[str, object] = {
    "requestBody": {
        "required": True,
        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post(
    "/{batch_id}/archive", status_code=202, openapi_extra=ARCHIVE_BODY, operation_id="upload_archive"
)
async def upload_archive(
    batch_id: str,
    owner: Owner,
    request: Request,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> ArchiveAccepted:
    """Submit every essay file of a ZIP body; skipped and refused members are named with their reason."""
    runtime = runtime_of(request)
    await anyio.to_thread.run_sync(check_batch_owner, runtime, owner, batch_id)
    with log_context(batch_id=batch_id):
        if idempotency_key is None:
            await anyio.to_thread.run_sync(check_open_batch, runtime, owner, batch_id)
        data = await _read_archive(request, runtime.settings.archive_max_bytes)
        correlation_id = correlation_id_of(request)
        result = await anyio.to_thread.run_sync(
            lambda: submit_archive(
                runtime, owner, batch_id, data, correlation_id=correlation_id, idempotency_key=idempotency_key
            )
        )
    return ArchiveAccepted(
        batch_id=batch_id,
        submissions=[
            SubmissionAccepted(
                submission_id=item.submission_id, filename=item.filename, replayed=not item.created
            )
            for item in result.accepted
        ],
        skipped=[MemberSkipped(name=item.name, reason=item.reason.value) for item in result.skipped],
        refused=[
            MemberRefused(name=item.name, code=item.code, message=item.message) for item in result.refused
        ],
    )


async def _read_archive(request: Request, max_bytes: int) -> bytes:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ARCHIVE_TYPES:
        raise UnsupportedMediaTypeError(
            "send the class archive as the request body with Content-Type: application/zip",
            details={"content_type": content_type[:100]},
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLargeError(
                f"the archive is larger than {max_bytes} bytes", details={"limit": max_bytes}
            )
        chunks.append(chunk)
    return b"".join(chunks)
