"""The one error hierarchy: every error ELS raises on purpose has a stable `code`.

Edges translate these once: the API to an HTTP status (`api/errors.py`), tasks to a failure record.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

Details = Mapping[str, str | int | None]


class ElsError(Exception):
    """Base of every deliberate ELS error; `code` is stable and documented, `message` is for people."""

    code = "ELS_ERROR"

    def __init__(self, message: str, *, details: Details | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, str | int | None] = dict(details or {})

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


# Caller mistakes.


class InvalidInputError(ElsError):
    """A caller sent something ELS will not accept (bad id, count out of range, malformed body)."""

    code = "INVALID_INPUT"


class IdempotencyKeyReusedError(InvalidInputError):
    """An Idempotency-Key already stored with a different upload: a replay must send the same bytes."""

    code = "IDEMPOTENCY_KEY_REUSED"


class UnauthorizedError(ElsError):
    """No bearer token, or one ELS does not know."""

    code = "UNAUTHORIZED"


class NotFoundError(ElsError):
    """The batch, essay or submission does not exist (or is not the caller's)."""

    code = "NOT_FOUND"


class PayloadTooLargeError(ElsError):
    """An upload or request body is larger than ELS accepts."""

    code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaTypeError(ElsError):
    """An upload is not a type ELS extracts text from."""

    code = "UNSUPPORTED_TYPE"


class ArchiveRefusedError(ElsError):
    """A class archive refused whole: damaged, or over a cap on its members, size or compression ratio."""

    code = "ARCHIVE_REFUSED"


class UnsupportedLanguageError(ElsError):
    """A language ELS has no spelling dictionary (and so no analysis) for."""

    code = "UNSUPPORTED_LANGUAGE"


class WebhookTargetRefusedError(InvalidInputError):
    """A webhook URL that is malformed or points where ELS refuses to connect (loopback, private, ...)."""

    code = "WEBHOOK_TARGET_REFUSED"


class RateLimitedError(ElsError):
    """Too many requests from one token or one client address; `details["retry_after"]` says when to retry."""

    code = "RATE_LIMITED"


class QuotaExceededError(ElsError):
    """The owner's quota (open batches, slots, uploads or bytes per day) would be exceeded.

    `details` names the quota, its limit, and `retry_after` in seconds.
    """

    code = "QUOTA_EXCEEDED"


# Conflicts with stored state.


class ConflictError(ElsError):
    """The request contradicts state that already exists."""

    code = "CONFLICT"


class BatchConflictError(ConflictError):
    """A batch with this id exists and was registered with a different request."""

    code = "BATCH_CONFLICT"


class EssayIdTakenError(ConflictError):
    """An explicit essay id is already registered in another live batch."""

    code = "ESSAY_ID_TAKEN"


class BatchNotOpenError(ConflictError):
    """The batch no longer takes submissions (sealed, expired or done)."""

    code = "BATCH_NOT_OPEN"


class BatchNotDoneError(ConflictError):
    """The batch has no final report yet."""

    code = "BATCH_NOT_DONE"


class BatchGoneError(ElsError):
    """The batch finished and its live state is gone (past retention); its report is still there."""

    code = "BATCH_GONE"


class InvalidTransitionError(ConflictError):
    """A state change the lifecycle does not allow."""

    code = "INVALID_TRANSITION"


# The service and its dependencies.


class ConfigurationError(ElsError):
    """ELS is configured in a way it cannot run with."""

    code = "CONFIGURATION_ERROR"


class NotReadyError(ElsError):
    """A dependency (Redis, the database or the broker) does not answer."""

    code = "NOT_READY"


class BlobStoreUnavailableError(NotReadyError):
    """The blob store did not take or give an upload's bytes; transient for tasks, 503 for the API."""


class NotReplicatedError(NotReadyError):
    """Redis took a step, but fewer replicas than `ELS_REDIS_MIN_REPLICAS` confirmed it in time.

    The step is on the primary only, so a failover could still lose it: it is not acknowledged. Every
    coordination step is idempotent under replay, so a retry (a task's backoff, a client's 503 retry) is
    safe. `details` carries `replicas` (confirmed) and `required`.
    """

    code = "NOT_REPLICATED"


class UnexpectedReplyError(ElsError):
    """A server answered in a shape ELS does not understand; never guessed around."""

    code = "UNEXPECTED_REPLY"


class RetryLaterError(ElsError):
    """A step that cannot complete yet but will (a batch still being registered); retried with backoff."""

    code = "RETRY_LATER"


class PublishError(ElsError):
    """The broker did not take an event; the outbox keeps it and tries again later."""

    code = "PUBLISH_FAILED"


# Uploads that cannot become essays.


class RejectionCode(StrEnum):
    """The stable reasons an upload is rejected; part of the public contract (errors, reports, events).

    - EMPTY_CONTENT: the upload is empty, or its text holds no word at all.
    - CONTENT_TOO_SHORT: fewer words than `Limits.min_words`.
    - CONTENT_TOO_LONG: more bytes, pages or words than the limits allow (`details["limit"]` says which).
    - UNSUPPORTED_TYPE: not text, Markdown, .docx, .odt, RTF or PDF (images, other archives, binary data).
    - TEXT_EXTRACTION_FAILED: a supported type that cannot be read, or not safely: corrupt files,
      undecodable text, archives failing the zip-bomb guards, PDFs over the time cap.
    - ENCRYPTED_FILE: a password-protected PDF.
    - NO_TEXT_LAYER: a PDF with pictures of pages and no text in it (a scan); ELS does no OCR.
    """

    EMPTY_CONTENT = "EMPTY_CONTENT"
    CONTENT_TOO_SHORT = "CONTENT_TOO_SHORT"
    CONTENT_TOO_LONG = "CONTENT_TOO_LONG"
    UNSUPPORTED_TYPE = "UNSUPPORTED_TYPE"
    TEXT_EXTRACTION_FAILED = "TEXT_EXTRACTION_FAILED"
    ENCRYPTED_FILE = "ENCRYPTED_FILE"
    NO_TEXT_LAYER = "NO_TEXT_LAYER"


class FailureCode(StrEnum):
    """Stable codes of uploads and essays that failed inside ELS, not for their content (reports, events).

    - PROCESSING_FAILED: processing the upload failed for good (an internal error, or retries exhausted).
    - PROCESSING_CRASHED: processing the upload stopped its worker `ELS_MAX_PROCESSING_ATTEMPTS` times.
    - ANALYSIS_FAILED: analysing the essay failed for good (an internal error, or retries exhausted).
    - ANALYSIS_TIMEOUT: analysing the essay ran past the task's time limit.
    - ANALYSIS_NOT_RUN: the slot was filled, but its analysis never ran (its essay was not stored in time).
    """

    PROCESSING_FAILED = "PROCESSING_FAILED"
    PROCESSING_CRASHED = "PROCESSING_CRASHED"
    ANALYSIS_FAILED = "ANALYSIS_FAILED"
    ANALYSIS_TIMEOUT = "ANALYSIS_TIMEOUT"
    ANALYSIS_NOT_RUN = "ANALYSIS_NOT_RUN"


class EssayRejectedError(ElsError):
    """An upload that cannot become an essay; `code` is the specific `RejectionCode` value."""

    code = "ESSAY_REJECTED"

    def __init__(
        self, rejection: RejectionCode | str, message: str, *, details: Details | None = None
    ) -> None:
        super().__init__(message, details=details)
        self.rejection = RejectionCode(rejection)
        self.code = self.rejection.value
        # `type(error)(*error.args)` is how pickle and Celery's result backends rebuild an exception.
        self.args = (self.code, message)
