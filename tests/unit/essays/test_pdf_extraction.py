"""PDF text comes page by page, under a page cap and a deadline checked between pages."""

from __future__ import annotations

import pytest

from els.errors import EssayRejectedError, RejectionCode
from essays.pdf_extraction import PdfCaps, extract_pdf_text
from tests.support.documents import make_corrupt_pdf, make_encrypted_pdf, make_pdf

CAPS = PdfCaps(max_pages=100, max_seconds=10.0)
TEXT = "Photosynthesis turns light into sugar. Leaves are green because of chlorophyll."


class SteppingClock:
    """A clock that moves `step` seconds each time it is read."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        self.now += self.step
        return self.now


def refusal(data: bytes, caps: PdfCaps = CAPS, clock: SteppingClock | None = None) -> EssayRejectedError:
    with pytest.raises(EssayRejectedError) as raised:
        if clock is None:
            extract_pdf_text(data, caps)
        else:
            extract_pdf_text(data, caps, clock)
    return raised.value


def test_text_of_a_pdf_is_extracted() -> None:
    assert extract_pdf_text(make_pdf(TEXT), CAPS).split() == TEXT.split()


def test_pages_are_separated_by_blank_lines() -> None:
    assert extract_pdf_text(make_pdf(TEXT, pages=3), CAPS).split("\n\n")[1:] == ["", ""]


def test_a_pdf_over_the_page_cap_is_too_long() -> None:
    error = refusal(make_pdf(TEXT, pages=101))
    assert error.code == RejectionCode.CONTENT_TOO_LONG
    assert error.details == {"limit": "pdf_max_pages", "actual": 101, "maximum": 100}


def test_a_pdf_at_the_page_cap_is_read() -> None:
    assert "Photosynthesis" in extract_pdf_text(make_pdf(TEXT, pages=5), PdfCaps(max_pages=5, max_seconds=10))


def test_extraction_stops_at_the_first_page_past_the_deadline() -> None:
    # Read once for the deadline (1.0 -> 3.5), then before each page: 2.0, 3.0, 4.0 > 3.5.
    clock = SteppingClock(step=1.0)
    error = refusal(make_pdf(TEXT, pages=6), PdfCaps(max_pages=100, max_seconds=2.5), clock)
    assert error.code == RejectionCode.TEXT_EXTRACTION_FAILED
    assert error.details == {"reason": "time_cap", "page": 3, "pages": 6}
    assert clock.reads == 4


def test_a_pdf_read_within_the_time_cap_is_not_stopped() -> None:
    text = extract_pdf_text(make_pdf(TEXT, pages=6), PdfCaps(100, 10.0), SteppingClock(step=1.0))
    assert "Photosynthesis" in text


def test_a_password_protected_pdf_is_an_encrypted_file() -> None:
    error = refusal(make_encrypted_pdf(TEXT))
    assert error.code == "ENCRYPTED_FILE"


def test_a_pdf_restricted_only_by_its_owner_is_read() -> None:
    assert extract_pdf_text(make_encrypted_pdf(TEXT, user_password=""), CAPS).split() == TEXT.split()


@pytest.mark.parametrize("data", [make_corrupt_pdf(), b"%PDF-1.7\n", b"%PDF-1.4\n" + bytes(range(256)) * 8])
def test_a_corrupt_pdf_fails_extraction(data: bytes) -> None:
    error = refusal(data)
    assert error.code == "TEXT_EXTRACTION_FAILED"
    assert error.details == {"reason": "corrupt"}
