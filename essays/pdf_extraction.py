"""Text of a PDF upload, with the work bounded inside each page as well as between pages.

Before a page is read, its decoded content stream is measured against a per-page and a whole-file cap
(text extraction costs time in proportion to it); while it is read, every operator, including those of
the forms it draws, counts against a per-page budget; between pages the time cap is checked and the
words so far are counted, stopping as soon as the essay is too long to accept anyway.

An encrypted PDF is opened only when its user password is empty (owner-only restrictions); any other
encryption, or AES without the optional `cryptography` package, is ENCRYPTED_FILE.
"""

from __future__ import annotations

import io
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from pypdf import PageObject, PasswordType, PdfReader
from pypdf.errors import DependencyError, PyPdfError

from els.errors import EssayRejectedError, RejectionCode
from essays.normalise import normalise
from essays.pdf_layout import join_pages
from essays.tokens import words

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
    # An unknown stream filter (a damaged /FlateDecode name, found by fuzzing).
    NotImplementedError,
)


@dataclass(frozen=True)
class PdfCaps:
    """How much of a PDF ELS will read."""

    max_pages: int
    max_seconds: float
    max_words: int
    max_page_content_bytes: int
    max_content_bytes: int
    max_page_operators: int


def extract_pdf_text(data: bytes, caps: PdfCaps, clock: Callable[[], float] = time.monotonic) -> str:
    """Text of every page, pages separated by blank lines; `clock` measures the time cap."""
    deadline = clock() + caps.max_seconds
    try:
        reader = PdfReader(io.BytesIO(data))
        _open_encrypted(reader)
        pages = reader.pages
        page_count = len(pages)
        if page_count > caps.max_pages:
            raise _too_long(f"the PDF has {page_count} pages", "pdf_max_pages", page_count, caps.max_pages)
        texts: list[str] = []
        content_bytes = word_count = 0
        for number, page in enumerate(pages, start=1):
            if clock() > deadline:
                raise EssayRejectedError(
                    RejectionCode.TEXT_EXTRACTION_FAILED,
                    f"reading the PDF took longer than {caps.max_seconds} s (stopped before page {number})",
                    details={"reason": "time_cap", "page": number, "pages": page_count},
                )
            content_bytes += _check_content_size(page, number, content_bytes, caps)
            budget = _OperatorBudget(number, caps.max_page_operators)
            text = page.extract_text(visitor_operand_before=budget)
            budget.check()
            texts.append(text)
            word_count += len(words(normalise(text)))
            if word_count > caps.max_words:
                raise _too_long(
                    f"the PDF has {word_count} words by page {number}",
                    "max_words",
                    word_count,
                    caps.max_words,
                    page=number,
                )
        text = join_pages(texts)
        # No word at all, and pictures on the pages: a scan, not an empty document.
        scanned = not words(normalise(text)) and any(len(page.images) for page in pages)
    except _MALFORMED as error:
        raise EssayRejectedError(
            RejectionCode.TEXT_EXTRACTION_FAILED,
            f"the PDF cannot be read: {error}",
            details={"reason": "corrupt"},
        ) from error
    if scanned:
        raise EssayRejectedError(
            RejectionCode.NO_TEXT_LAYER,
            "the PDF holds pictures of pages but no text (a scan or a photo); ELS does not read text "
            "from images: export the essay from the word processor as a PDF, or upload the document",
            details={"reason": "no_text_layer", "pages": len(pages)},
        )
    return text


def _check_content_size(page: PageObject, number: int, read_so_far: int, caps: PdfCaps) -> int:
    """The decoded size of the page's content stream, refused over the page or the whole-file cap."""
    contents = page.get_contents()
    size = 0 if contents is None else len(contents.get_data())
    if size > caps.max_page_content_bytes:
        raise _too_long(
            f"page {number} of the PDF holds {size} bytes of content",
            "pdf_max_page_content_bytes",
            size,
            caps.max_page_content_bytes,
            page=number,
        )
    if read_so_far + size > caps.max_content_bytes:
        raise _too_long(
            f"the PDF holds {read_so_far + size} bytes of content by page {number}",
            "pdf_max_content_bytes",
            read_so_far + size,
            caps.max_content_bytes,
            page=number,
        )
    return size


class _OperatorBudget:
    """A pypdf operator visitor that refuses a page once it has run `maximum` operators.

    The content-size cap does not see the forms (XObjects) a page draws, each of which pypdf reads
    again at every use; counting operators as they run bounds those too. pypdf logs and skips a form
    that raises, so the refusal cuts the work short from inside and `check` makes it final after.
    """

    def __init__(self, page: int, maximum: int) -> None:
        self.page = page
        self.maximum = maximum
        self.operators = 0

    def __call__(self, operator: object, operands: object, cm: object, tm: object) -> None:
        del operator, operands, cm, tm
        self.operators += 1
        self.check()

    def check(self) -> None:
        """Refuse the page (CONTENT_TOO_LONG) if it has run more operators than the budget."""
        if self.operators > self.maximum:
            raise _too_long(
                f"page {self.page} of the PDF runs more than {self.maximum} drawing operators",
                "pdf_max_page_operators",
                self.operators,
                self.maximum,
                page=self.page,
            )


def _too_long(
    what: str, limit: str, actual: int, maximum: int, page: int | None = None
) -> EssayRejectedError:
    details: dict[str, str | int | None] = {"limit": limit, "actual": actual, "maximum": maximum}
    if page is not None:
        details["page"] = page
    return EssayRejectedError(
        RejectionCode.CONTENT_TOO_LONG, f"{what}; at most {maximum} are read", details=details
    )


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
