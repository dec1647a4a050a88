"""Why an upload is not accepted as an essay: stable rejection codes and the error that carries them.

The codes are part of the public contract (HTTP error bodies, task failure records, reports):
- EMPTY_CONTENT: the upload is empty, or its text holds no word at all.
- CONTENT_TOO_SHORT: fewer words than `Limits.min_words`.
- CONTENT_TOO_LONG: the document is honestly too big: more bytes than `Limits.max_upload_bytes`,
  more pages than `Limits.pdf_max_pages` or more words than `Limits.max_words` (`details["limit"]`
  names which).
- UNSUPPORTED_TYPE: not plain text, Markdown, .docx or PDF (images, other archives, binary data).
- TEXT_EXTRACTION_FAILED: a supported type that cannot be read, or not safely: corrupt files,
  undecodable text, archives failing the zip-bomb guards, PDFs over the time cap.
- ENCRYPTED_FILE: a password-protected PDF.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from els.errors import ElsError


class RejectionCode(StrEnum):
    """The stable reasons an upload is rejected."""

    EMPTY_CONTENT = "EMPTY_CONTENT"
    CONTENT_TOO_SHORT = "CONTENT_TOO_SHORT"
    CONTENT_TOO_LONG = "CONTENT_TOO_LONG"
    UNSUPPORTED_TYPE = "UNSUPPORTED_TYPE"
    TEXT_EXTRACTION_FAILED = "TEXT_EXTRACTION_FAILED"
    ENCRYPTED_FILE = "ENCRYPTED_FILE"


class EssayRejectedError(ElsError):
    """An upload that cannot become an essay; `code` is the specific `RejectionCode` value."""

    code = "ESSAY_REJECTED"

    def __init__(
        self,
        rejection: RejectionCode | str,
        message: str,
        *,
        details: Mapping[str, str | int | None] | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.rejection = RejectionCode(rejection)
        self.code = self.rejection.value
        # `type(error)(*error.args)` is how pickle and Celery's result backends rebuild an exception.
        self.args = (self.code, message)
