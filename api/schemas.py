"""The API's request and response bodies (pydantic at the edge)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationInfo, field_validator

from els.errors import InvalidInputError
from services.bounds import canonical_metadata, check_plain_id, check_text

# pydantic's own recursive JSON type: it resolves in any module, unlike a string-referenced alias.
JsonBody = dict[str, JsonValue]


def _plain_text(kind: str, value: str | None) -> str | None:
    # The services' rule, raised as ValueError so pydantic reports it as a validation error (422).
    if value is None:
        return None
    try:
        return check_text(kind, value)
    except InvalidInputError as error:
        raise ValueError(error.message) from error


class ErrorInfo(BaseModel):
    """What went wrong, with a stable code."""

    code: str
    message: str
    correlation_id: str
    details: dict[str, str | int | None]


class ErrorBody(BaseModel):
    """The one error shape."""

    error: ErrorInfo


class BatchCreate(BaseModel):
    """A batch registration: explicit essay ids or an expected count."""

    model_config = ConfigDict(extra="forbid")

    batch_id: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    expected_count: int | None = Field(None, ge=1)
    essay_ids: list[str] | None = Field(None, min_length=1)
    course_code: str | None = Field(None, max_length=64)
    language: str | None = Field(None, min_length=1, max_length=16)
    deadline_seconds: int | None = Field(None, ge=1)
    metadata: JsonBody | None = Field(
        None, description="A JSON object: at most 16 KiB, 8 levels and 256 keys; finite numbers only."
    )

    @field_validator("batch_id")
    @classmethod
    def _batch_id_is_no_path_segment(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return check_plain_id("batch_id", value)
        except InvalidInputError as error:
            raise ValueError(error.message) from error

    @field_validator("course_code", "language")
    @classmethod
    def _no_control_characters(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _plain_text(info.field_name or "text", value)

    @field_validator("metadata")
    @classmethod
    def _bounded_metadata(cls, value: JsonBody | None) -> JsonBody | None:
        if value is not None:
            try:
                canonical_metadata(value)
            except InvalidInputError as error:
                raise ValueError(error.message) from error
        return value


class BatchCreated(BaseModel):
    """A registered batch with its slots and deadline."""

    batch_id: str
    state: str
    essay_ids: list[str]
    expected_count: int
    language: str
    course_code: str | None
    deadline_at: datetime


class TextEssay(BaseModel):
    """An essay sent as JSON text instead of a file."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)
    filename: str = Field("essay.txt", min_length=1, max_length=255)

    @field_validator("filename")
    @classmethod
    def _no_control_characters(cls, value: str) -> str:
        return _plain_text("filename", value) or value


class SubmissionAccepted(BaseModel):
    """One accepted upload; `replayed` when its idempotency key was seen before."""

    submission_id: str
    filename: str
    replayed: bool


class SubmissionsAccepted(BaseModel):
    """The uploads of one request, in order."""

    batch_id: str
    submissions: list[SubmissionAccepted]


class MemberSkipped(BaseModel):
    """An archive member that is not an essay file: hidden, a link, an unsafe path, too large, an archive."""

    name: str
    reason: str


class MemberRefused(BaseModel):
    """An archive member intake refused, with the code a single upload of it would get."""

    name: str
    code: str
    message: str


class ArchiveAccepted(BaseModel):
    """What became of every member of a class archive: submissions in archive order, then the rest."""

    batch_id: str
    submissions: list[SubmissionAccepted]
    skipped: list[MemberSkipped]
    refused: list[MemberRefused]


class EssayStatus(BaseModel):
    """One slot of a batch as SQL knows it."""

    essay_id: str
    position: int
    state: str
    submission_id: str | None
    error_code: str | None


class BatchStatusBody(BaseModel):
    """Live batch state from the coordinator plus each essay's state."""

    batch_id: str
    state: str
    expected: int
    assigned: int
    failed: int
    excess: int
    duplicates: int
    missing_essay_ids: list[str]
    deadline_at: datetime
    essays: list[EssayStatus]


class BatchLine(BaseModel):
    """One batch of a listing."""

    batch_id: str
    state: str
    expected: int
    assigned: int
    failed: int
    excess: int
    created_at: datetime
    deadline_at: datetime


class BatchList(BaseModel):
    """A page of the caller's active batches."""

    batches: list[BatchLine]
    next_cursor: str | None


class BatchReport(BaseModel):
    """The final report of a DONE batch."""

    batch_id: str
    report: JsonBody


class EssayBody(BaseModel):
    """One essay with its batch, metrics and analysis."""

    essay_id: str
    batch_id: str
    position: int
    state: str
    submission_id: str | None
    content_hash: str | None
    metrics: JsonBody | None
    analysis: JsonBody | None
    error_code: str | None
    error_detail: str | None
    updated_at: datetime


class Health(BaseModel):
    """Liveness or readiness, with each dependency's answer."""

    status: str
    checks: dict[str, str] = Field(default_factory=dict)


def _error(description: str) -> dict[str, object]:
    return {"model": ErrorBody, "description": description}


# The error answers every /v1 operation may give, documented with the one error shape.
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    401: _error("No bearer token, or an unknown one (UNAUTHORIZED)."),
    404: _error("Unknown batch or essay, or another owner's (NOT_FOUND)."),
    409: _error("Conflicts with stored state (BATCH_CONFLICT, BATCH_NOT_OPEN, BATCH_NOT_DONE, ...)."),
    413: _error("Upload or body too large (PAYLOAD_TOO_LARGE)."),
    415: _error("Unsupported file or body type (UNSUPPORTED_TYPE)."),
    422: _error(
        "Malformed body, id or parameter (INVALID_INPUT); an Idempotency-Key reused for another "
        "upload (IDEMPOTENCY_KEY_REUSED)."
    ),
    429: _error(
        "Too many requests from the token or address (RATE_LIMITED), or an owner quota reached "
        "(QUOTA_EXCEEDED); retry after the Retry-After seconds."
    ),
    503: _error("A dependency does not answer (NOT_READY); retry after the Retry-After seconds."),
}
