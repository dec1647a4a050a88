"""Text of a PDF upload, under a page cap and a time cap checked between pages.

An encrypted PDF is opened only when its user password is empty (owner-only restrictions); any other
encryption, or AES without the optional `cryptography` package, is ENCRYPTED_FILE. The time cap cannot
interrupt one pathological page; the Celery soft time limit is the backstop for that.
"""

from __future__ import annotations

import io
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError, PyPdfError

from els.errors import EssayRejectedError, RejectionCode

# pypdf raises more than its own errors on malformed files; these are the ones seen in practice.
_MALFORMED = (
    PyPdfError,
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    IndexError,
    RecursionError,
    zlib.error,
)


@dataclass(frozen=True)
class PdfCaps:
    """How much of a PDF ELS will read."""

    max_pages: int
    max_seconds: float


def extract_pdf_text(data: bytes, caps: PdfCaps, clock: Callable[[], float] = time.monotonic) -> str:
    """Text of every page, pages separated by blank lines; `clock` measures the time cap."""
    deadline = clock() + caps.max_seconds
    try:
        reader = PdfReader(io.BytesIO(data))
        _open_encrypted(reader)
        pages = reader.pages
        page_count = len(pages)
        if page_count > caps.max_pages:
            raise EssayRejectedError(
                RejectionCode.CONTENT_TOO_LONG,
                f"the PDF has {page_count} pages; at most {caps.max_pages} are read",
                details={"limit": "pdf_max_pages", "actual": page_count, "maximum": caps.max_pages},
            )
        texts: list[str] = []
        for number, page in enumerate(pages, start=1):
            if clock() > deadline:
                raise EssayRejectedError(
                    RejectionCode.TEXT_EXTRACTION_FAILED,
                    f"reading the PDF took longer than {caps.max_seconds} s (stopped before page {number})",
                    details={"reason": "time_cap", "page": number, "pages": page_count},
                )
            texts.append(page.extract_text())
    except _MALFORMED as error:
        raise EssayRejectedError(
            RejectionCode.TEXT_EXTRACTION_FAILED,
            f"the PDF cannot be read: {error}",
            details={"reason": "corrupt"},
        ) from error
    return "\n\n".join(texts)


def _open_encrypted(reader: PdfReader) -> None:
    if not reader.is_encrypted:
        return
    try:
        opened = reader.decrypt("") != PasswordType.NOT_DECRYPTED
    except DependencyError:
        opened = False
    if not opened:
        raise EssayRejectedError(
            RejectionCode.ENCRYPTED_FILE,
            "the PDF is password-protected; send it without a password",
            details={"reason": "encrypted"},
        )
