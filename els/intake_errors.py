"""The errors intake raises on purpose, each with a stable code the API maps to a status."""

from __future__ import annotations

from els.errors import ConflictError, ElsError


class BatchNotOpenError(ConflictError):
    """The batch no longer takes submissions (sealed, expired or done)."""

    code = "BATCH_NOT_OPEN"


class RegistrationConflictError(ConflictError):
    """A batch with this id was registered by a different request."""

    code = "BATCH_CONFLICT"


class PayloadTooLargeError(ElsError):
    """An upload or request body is larger than ELS accepts."""

    code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaTypeError(ElsError):
    """An upload is not a type ELS extracts text from."""

    code = "UNSUPPORTED_TYPE"
