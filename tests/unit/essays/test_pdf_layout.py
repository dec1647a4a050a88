"""PDF pages to essay text: running headers, footers and page numbers go, hyphenated line ends rejoin."""

from __future__ import annotations

import io

import pytest
from fpdf import FPDF
from PIL import Image

from els.errors import EssayRejectedError, RejectionCode
from essays.detect import MediaType
from essays.extract import extract_text
from essays.normalise import normalise
from essays.pdf_layout import join_pages
from essays.spelling import count_spelling_errors
from essays.tokens import words
from essays.upload import process_upload
from essays.validate import Limits

LINES = [
    "Rivers shape the land they cross. Over thou-",
    "sands of years water carves valleys and moves",
    "stones, and builds wide plains where farm-",
    "ers later grow their crops every single year.",
]
JOINED = (
    "Rivers shape the land they cross. Over thousands of years water carves valleys and moves stones, "
    "and builds wide plains where farmers later grow their crops every single year."
)


def test_a_hyphen_at_a_line_end_between_letters_rejoins_the_word() -> None:
    text = join_pages(["\n".join(LINES)])
    assert "thousands" in words(text) and "farmers" in words(text)
    assert "thou" not in words(text)


def test_a_hyphen_before_a_capital_or_a_digit_stays() -> None:
    page = "Opening line.\nthe Anglo-\nSaxon kings of 1066-\n1087 ruled\nlong ago.\nClosing line."
    assert join_pages([page]) == page


def test_a_compound_broken_at_its_own_hyphen_keeps_it_when_written_so_elsewhere() -> None:
    page = "Opening line.\nThe byte-order of a file and the byte-\norder of a reply differ.\nClosing line."
    assert words(join_pages([page])).count("byte-order") == 2


def test_a_word_written_whole_elsewhere_is_rejoined_whole() -> None:
    page = "Opening line.\nA mask of one plane-\nmask, then the planemask again.\nClosing line."
    assert words(join_pages([page])).count("planemask") == 2


def test_a_compound_with_a_hyphen_either_side_of_the_break_keeps_it() -> None:
    page = "Opening line.\nThe value is out-of-\nrange and the bits-\nper-pixel are wrong.\nClosing line."
    found = words(join_pages([page]))
    assert "out-of-range" in found
    assert "bits-per-pixel" in found


def test_a_compound_broken_across_pages_keeps_its_hyphen_too() -> None:
    pages = ["Opening line.\nThe data is out-of-", "range here.\nClosing line."]
    assert "out-of-range" in words(join_pages(pages))


def test_running_headers_footers_and_page_numbers_are_dropped() -> None:
    pages = [
        "\n".join(
            [
                "Jane Doe - History essay",
                *(f"The {n} page, line {line}." for line in range(4)),
                f"Page {i} of 3",
            ]
        )
        for i, n in enumerate(("first", "second", "third"), 1)
    ]
    assert join_pages(pages) == "\n\n".join(
        "\n".join(f"The {n} page, line {line}." for line in range(4)) for n in ("first", "second", "third")
    )


def test_a_single_page_keeps_every_line_but_a_bare_page_number() -> None:
    assert join_pages(["Jane Doe\nThe essay itself.\n1"]) == "Jane Doe\nThe essay itself."


def test_a_line_repeated_in_the_body_is_not_a_header() -> None:
    body = "\n".join(["Intro line.", "a", "b", "The refrain.", "c", "d", "Outro line."])
    assert "The refrain." in join_pages([body, body])


def pdf_with_running_heads(pages: list[list[str]]) -> bytes:
    class Essay(FPDF):
        def header(self) -> None:
            self.set_font("Helvetica", size=9)
            self.cell(0, 8, "Jane Doe - Year 9 English", new_x="LMARGIN", new_y="NEXT")

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("Helvetica", size=9)
            self.cell(0, 8, f"Page {self.page_no()}", align="C")

    pdf = Essay()
    pdf.set_font("Helvetica", size=12)
    for lines in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", size=12)
        for line in lines:
            pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def test_a_printed_pdf_counts_each_word_once_and_spells_like_its_text() -> None:
    # Each page's lines differ, as an essay's do; only the head and foot repeat.
    numbers = ("one", "two", "three")
    pages = [[f"Part {n}: {LINES[0]}", f"{LINES[1]} {n}", LINES[2], f"{LINES[3][:-1]} {n}."] for n in numbers]
    text = normalise(extract_text(pdf_with_running_heads(pages), MediaType.PDF, Limits()))
    expected = [
        f"Part {n}: " + JOINED.replace("moves stones", f"moves {n} stones").replace("year.", f"year {n}.")
        for n in numbers
    ]
    plain = normalise("\n\n".join(expected))
    assert "Jane" not in text and "Page" not in text
    assert words(text) == words(plain)
    assert count_spelling_errors(words(text), "en") == count_spelling_errors(words(plain), "en")


def scanned_pdf() -> bytes:
    picture = io.BytesIO()
    Image.new("L", (200, 100), color=200).save(picture, format="PNG")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(io.BytesIO(picture.getvalue()), x=10, y=10, w=180)
    return bytes(pdf.output())


def test_a_scanned_pdf_is_no_text_layer_with_a_hint() -> None:
    with pytest.raises(EssayRejectedError) as caught:
        process_upload(scanned_pdf(), "scan.pdf", Limits())
    assert caught.value.code == RejectionCode.NO_TEXT_LAYER
    assert "scan" in caught.value.message and "images" in caught.value.message


def test_an_empty_pdf_without_pictures_is_still_empty_content() -> None:
    pdf = FPDF()
    pdf.add_page()
    with pytest.raises(EssayRejectedError) as caught:
        process_upload(bytes(pdf.output()), "blank.pdf", Limits())
    assert caught.value.code == RejectionCode.EMPTY_CONTENT
