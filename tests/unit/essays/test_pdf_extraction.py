"""PDF text comes page by page, under caps on pages, content, operators and words, and a deadline."""

from __future__ import annotations

import dataclasses

import pytest

from els.errors import EssayRejectedError, RejectionCode
from essays.pdf_extraction import PdfCaps, extract_pdf_text
from essays.validate import Limits
from tests.support.documents import (
    make_corrupt_pdf,
    make_encrypted_pdf,
    make_pdf,
    make_pdf_with_content,
    text_operators,
)

CAPS = PdfCaps(
    max_pages=100,
    max_seconds=10.0,
    max_words=Limits().max_words,
    max_page_content_bytes=Limits().pdf_max_page_content_bytes,
    max_content_bytes=Limits().pdf_max_content_bytes,
    max_page_operators=Limits().pdf_max_page_operators,
)
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
    assert "Photosynthesis" in extract_pdf_text(
        make_pdf(TEXT, pages=5), dataclasses.replace(CAPS, max_pages=5)
    )


def test_extraction_stops_at_the_first_page_past_the_deadline() -> None:
    # Read once for the deadline (1.0 -> 3.5), then before each page: 2.0, 3.0, 4.0 > 3.5.
    clock = SteppingClock(step=1.0)
    error = refusal(make_pdf(TEXT, pages=6), dataclasses.replace(CAPS, max_seconds=2.5), clock)
    assert error.code == RejectionCode.TEXT_EXTRACTION_FAILED
    assert error.details == {"reason": "time_cap", "page": 3, "pages": 6}
    assert clock.reads == 4


def test_a_pdf_read_within_the_time_cap_is_not_stopped() -> None:
    text = extract_pdf_text(make_pdf(TEXT, pages=6), CAPS, SteppingClock(step=1.0))
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


def test_one_page_of_a_megabyte_of_text_operators_is_refused_before_it_is_read() -> None:
    # 100,000 text operators on one page: about 1 MiB decoded from a few kilobytes of file.
    huge_page = make_pdf_with_content([text_operators(100_000)])
    error = refusal(huge_page)
    assert error.code == RejectionCode.CONTENT_TOO_LONG
    assert error.details["limit"] == "pdf_max_page_content_bytes"
    assert error.details["maximum"] == 512 * 1024
    assert error.details["page"] == 1
    actual = error.details["actual"]
    assert isinstance(actual, int) and actual > 1_000_000


def test_pages_each_under_the_page_cap_are_refused_once_their_sum_is_over_the_file_cap() -> None:
    page = text_operators(200)
    caps = dataclasses.replace(CAPS, max_content_bytes=len(page) * 3)
    error = refusal(make_pdf_with_content([page] * 5), caps)
    assert error.code == RejectionCode.CONTENT_TOO_LONG
    assert error.details == {
        "limit": "pdf_max_content_bytes",
        "actual": len(page) * 4,
        "maximum": len(page) * 3,
        "page": 4,
    }


def test_a_form_drawn_again_and_again_is_refused_by_the_operator_budget() -> None:
    # The page itself is a few bytes; the work is in the form it draws 50 times.
    form = text_operators(1000)
    data = make_pdf_with_content([b"/X1 Do " * 50], form=form)
    error = refusal(data, dataclasses.replace(CAPS, max_page_operators=10_000))
    assert error.code == RejectionCode.CONTENT_TOO_LONG
    assert error.details["limit"] == "pdf_max_page_operators"
    assert error.details["maximum"] == 10_000
    assert error.details["page"] == 1


def test_extraction_stops_at_the_first_page_past_the_word_cap() -> None:
    error = refusal(make_pdf_with_content([text_operators(60)] * 6), dataclasses.replace(CAPS, max_words=100))
    assert error.code == RejectionCode.CONTENT_TOO_LONG
    assert error.details == {"limit": "max_words", "actual": 120, "maximum": 100, "page": 2}


def test_pages_within_every_cap_are_read_whole() -> None:
    text = extract_pdf_text(make_pdf_with_content([text_operators(50)] * 2, form=text_operators(5)), CAPS)
    assert text.split() == ["word"] * 100
