"""Issue row 3: a one-page PDF of many text operators no longer holds a worker.

PDFs are read in a child process killed at ELS_PDF_MAX_SECONDS; here the content caps are opened wide so
only that kill can stop the page, and the test counts what is left: no child process, one rejection.
"""

from __future__ import annotations

import os

import pytest

from els.errors import EssayRejectedError, RejectionCode
from essays.pdf_extraction import PdfCaps, extract_pdf_text
from services.pdf_sandbox import sandboxed_pdf_text
from tests.support.documents import make_encrypted_pdf, make_pdf, make_pdf_with_content, text_operators
from tests.support.workers import children_of

WIDE_OPEN = PdfCaps(
    max_pages=10,
    max_seconds=1.0,
    max_words=10**9,
    max_page_content_bytes=10**9,
    max_content_bytes=10**9,
    max_page_operators=10**9,
)
ESSAY = "Rivers carve valleys over thousands of years, and their deltas feed the fields of many nations."


def test_a_page_of_a_million_text_operators_is_killed_at_the_time_cap() -> None:
    page = text_operators(1_000_000)  # about 11 MB of content on one page
    before = set(children_of(os.getpid()))
    with pytest.raises(EssayRejectedError) as refused:
        sandboxed_pdf_text(make_pdf_with_content([page]), WIDE_OPEN)
    assert refused.value.code == RejectionCode.TEXT_EXTRACTION_FAILED
    assert refused.value.details["reason"] == "time_cap"
    # The child was killed and reaped: nothing of it is left running.
    assert set(children_of(os.getpid())) <= before


def test_the_sandbox_reads_what_the_reader_reads_and_keeps_its_rejections() -> None:
    caps = WIDE_OPEN.__class__(**{**WIDE_OPEN.__dict__, "max_seconds": 30.0})
    document = make_pdf(ESSAY)
    assert sandboxed_pdf_text(document, caps) == extract_pdf_text(document, caps)
    with pytest.raises(EssayRejectedError) as encrypted:
        sandboxed_pdf_text(make_encrypted_pdf(ESSAY), caps)
    assert encrypted.value.code == RejectionCode.ENCRYPTED_FILE
    with pytest.raises(EssayRejectedError) as corrupt:
        sandboxed_pdf_text(b"%PDF-1.4 not really", caps)
    assert corrupt.value.code == RejectionCode.TEXT_EXTRACTION_FAILED
