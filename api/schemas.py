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


class BatchWebhookIn(BaseModel):
    """A batch's own webhook, given at registration: the caller chooses (and so already knows) the secret."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2048)
    secret: str = Field(min_length=1, max_length=128, description="`whsec_` + base64 of 24 to 64 bytes.")


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
    webhook: BatchWebhookIn | None = Field(
        None, description="This batch's own webhook, used instead of the owner's for its events."
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


class FileBody(BaseModel):
    """One uploaded file and what became of it."""

    submission_id: str
    batch_id: str
    filename: str
    size: int = Field(description="Bytes of the upload as received.")
    media_type: str
    received_at: datetime
    outcome: str = Field(description="received, processing, assigned, failed, duplicate or excess.")
    essay_id: str | None = Field(
        description="The slot it took or failed in; for a duplicate, the slot whose content it repeats."
    )
    code: str | None = Field(description="The stable code of a failed file.")
    message: str | None = Field(description="Why a failed file was refused, for people.")
    duplicate_of_filename: str | None = Field(description="For a duplicate: the file holding that slot.")


class SubmissionList(BaseModel):
    """A page of a batch's uploads in arrival order; pass `next_offset` back as `offset`."""

    batch_id: str
    submissions: list[FileBody]
    total: int
    next_offset: int | None


class Measures(BaseModel):
    """The headline measures of an analysed essay."""

    words: int | None = None
    readability: float | None = None
    spelling_errors_per_100_words: float | None = None
    type_token_ratio: float | None = None
    mtld: float | None = None
    mattr: float | None = None
    mean_sentence_length: float | None = None
    detected_language: str | None = None
    warnings: list[str] | None = None


class SlotBody(BaseModel):
    """One expected essay: its outcome and the file behind it."""

    essay_id: str
    position: int
    state: str
    outcome: str = Field(description="assigned, failed, missing, or awaiting while the batch is open.")
    code: str | None
    message: str | None
    file: FileBody | None
    measures: Measures | None


class DuplicateBody(BaseModel):
    """A file whose content already holds a slot, and the slot and file it repeats."""

    file: FileBody
    of_essay_id: str
    of_filename: str | None


class BatchStatusBody(BaseModel):
    """Live batch state from the coordinator's counters, read in one step whatever the batch's size.

    No slot is listed here: `GET /v1/batches/{batch_id}/slots` pages through them.
    """

    batch_id: str
    state: str = Field(
        description="open, expiring (deadline passed, closing), sealed, expired, closed, finalizing, done "
        "or cancelled."
    )
    expected: int = Field(description="Slots the batch was registered with.")
    assigned: int = Field(description="Slots filled by an essay.")
    failed: int = Field(description="Slots consumed by a file that could not be read.")
    excess: int = Field(description="Uploads that arrived with no slot left or past the deadline.")
    duplicates: int = Field(description="Uploads whose content already holds a slot (they take none).")
    missing: int = Field(description="Slots nobody filled once the batch stopped taking them; 0 while open.")
    created_at: datetime
    deadline_at: datetime
    closed_at: datetime | None = None


class SlotList(BaseModel):
    """A page of a batch's slots in slot order, each tied to the file that filled it."""

    batch_id: str
    slots: list[SlotBody]
    next_cursor: str | None = Field(description="Pass back as `cursor` for the next page; null on the last.")


class BatchEnded(BaseModel):
    """A batch its owner closed or cancelled; `replayed` when an earlier request did it."""

    batch_id: str
    state: str = Field(description="closed or cancelled: how the owner ended it.")
    current_state: str = Field(description="Where the batch is now (finalizing and done follow).")
    replayed: bool
    missing_essay_ids: list[str]
    closed_at: datetime | None


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


class ReportCounts(BaseModel):
    """How many slots ended each way, and the uploads that took no slot."""

    expected: int
    analysed: int
    failed: int
    analysis_failed: int
    missing: int
    excess: int
    duplicates: int


class ReportMeans(BaseModel):
    """Means over the analysed essays; null where no essay has the measure."""

    words: float | None
    spelling_errors_per_100_words: float | None
    readability: float | None
    type_token_ratio: float | None
    mtld: float | None
    mattr: float | None = None
    mean_sentence_length: float | None


class EssayAnalysisBody(BaseModel):
    """The measures of one analysed essay."""

    language: str
    words: int
    sentences: int
    spelling_errors: int
    spelling_errors_per_100_words: float
    readability: float | None
    readability_formula: str | None
    type_token_ratio: float
    mtld: float
    mattr: float | None = Field(None, description="Moving-average type-token ratio (windows of 50 tokens).")
    mean_sentence_length: float
    detected_language: str | None = Field(
        None, description="The essay's language (ISO 639-1) when it is confidently not the batch's."
    )
    warnings: list[str] = Field(default_factory=list, description="Warning codes, e.g. LANGUAGE_MISMATCH.")


class ReportEssay(BaseModel):
    """One slot of the report."""

    essay_id: str
    status: str = Field(description="analysed, failed, analysis_failed or missing.")
    code: str | None
    message: str | None
    analysis: EssayAnalysisBody | None


class ReportBody(BaseModel):
    """The report as stored when the batch finished."""

    batch_id: str
    counts: ReportCounts
    means: ReportMeans
    essays: list[ReportEssay]


class BatchReport(BaseModel):
    """The final report of a DONE batch, with every slot tied to its file."""

    batch_id: str
    state: str = "done"
    report: ReportBody
    slots: list[SlotBody] = Field(default_factory=list)
    files_received: list[FileBody] = Field(default_factory=list)
    files_refused: list[FileBody] = Field(default_factory=list, description="Failed files with reasons.")
    duplicates: list[DuplicateBody] = Field(default_factory=list)
    excess_files: list[FileBody] = Field(default_factory=list)
    missing_essay_ids: list[str] = Field(default_factory=list)


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


class WebhookIn(BaseModel):
    """The owner's webhook URL; ELS makes the secret."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2048)


class WebhookBody(BaseModel):
    """The owner's webhook; `secret` only in the answer that set it, never again."""

    url: str
    created_at: datetime
    events: list[str]
    secret: str | None = None


class WebhookDeliveryBody(BaseModel):
    """One delivery of one event to a webhook; its `event_id` is the `webhook-id` of every attempt."""

    event_id: str
    event_type: str
    batch_id: str
    url: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    last_status: int | None
    last_error: str | None


class WebhookDeliveries(BaseModel):
    """The caller's webhook deliveries, newest first."""

    deliveries: list[WebhookDeliveryBody]


def _error(description: str) -> dict[str, object]:
    return {"model": ErrorBody, "description": description}


# The error answers every /v1 operation may give, documented with the one error shape.
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    401: _error("No bearer token, or an unknown one (UNAUTHORIZED)."),
    404: _error("Unknown batch or essay, or another owner's (NOT_FOUND)."),
    409: _error("Conflicts with stored state (BATCH_CONFLICT, BATCH_NOT_OPEN, BATCH_NOT_DONE, ...)."),
    410: _error("The batch finished and its live state is gone; read its report (BATCH_GONE)."),
    413: _error("Upload or body too large (PAYLOAD_TOO_LARGE)."),
    415: _error("Unsupported file or body type (UNSUPPORTED_TYPE)."),
    422: _error(
        "Malformed body, id or parameter (INVALID_INPUT); an Idempotency-Key reused for another "
        "upload (IDEMPOTENCY_KEY_REUSED); a language the analysers lack (UNSUPPORTED_LANGUAGE)."
    ),
    429: _error(
        "Too many requests from the token or address (RATE_LIMITED), or an owner quota reached "
        "(QUOTA_EXCEEDED); retry after the Retry-After seconds."
    ),
    503: _error(
        "A dependency does not answer (NOT_READY), or Redis took the step but too few replicas "
        "confirmed it (NOT_REPLICATED); retry after the Retry-After seconds."
    ),
}
