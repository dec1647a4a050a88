"""Reading the essays of one request: multipart files (spooled to disk by the parser) or JSON text."""

from __future__ import annotations

from fastapi import Request
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from api.schemas import TextEssay
from els.errors import InvalidInputError, PayloadTooLargeError, UnsupportedMediaTypeError
from els.settings import Settings
from services.bounds import clean_filename
from services.intake import Upload

MAX_FILES = 100
_CHUNK = 64 * 1024

_BINARY = {"type": "string", "format": "binary"}
# The request body schema both forms share, for the OpenAPI document.
UPLOAD_BODY_SCHEMA: dict[str, object] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"files": {"type": "array", "items": _BINARY}},
                    "required": ["files"],
                }
            },
            "application/json": {"schema": TextEssay.model_json_schema()},
        },
    }
}


async def read_uploads(request: Request, settings: Settings) -> list[Upload]:
    """The request's essays; the multipart parser streams each file to a spooled temporary file."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            essay = TextEssay.model_validate_json(await request.body())
        except ValidationError as error:
            problems = error.error_count()
            raise InvalidInputError(f"the JSON body is not a text essay ({problems} problems)") from error
        return [Upload(filename=essay.filename, declared_type="text/plain", data=essay.text.encode())]
    if content_type != "multipart/form-data":
        raise UnsupportedMediaTypeError(
            "send multipart/form-data files or an application/json text essay",
            details={"content_type": content_type[:100]},
        )
    form = await request.form(max_files=MAX_FILES, max_fields=10)
    try:
        uploads = [
            await _read_file(item, settings.max_upload_bytes)
            for item in form.getlist("files")
            if isinstance(item, UploadFile)
        ]
    finally:
        await form.close()
    if not uploads:
        raise InvalidInputError("send at least one file in the `files` field", details={"field": "files"})
    return uploads


async def _read_file(item: UploadFile, max_bytes: int) -> Upload:
    chunks: list[bytes] = []
    size = 0
    while chunk := await item.read(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLargeError(
                f"{clean_filename(item.filename or '')} is larger than {max_bytes} bytes",
                details={"filename": clean_filename(item.filename or ""), "limit": max_bytes},
            )
        chunks.append(chunk)
    return Upload(
        filename=item.filename or "upload", declared_type=item.content_type or "", data=b"".join(chunks)
    )
