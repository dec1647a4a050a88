"""Markdown, OpenDocument text and RTF: detected by their bytes, read to their visible prose only."""

from __future__ import annotations

import io
import zipfile

import pytest

from els.errors import EssayRejectedError, RejectionCode
from essays.detect import MediaType, detect_media_type
from essays.extract import extract_text
from essays.normalise import normalise
from essays.tokens import words
from essays.upload import process_upload
from essays.validate import Limits
from tests.support.documents import make_odt, make_rtf, odt_paragraphs

ESSAY = (
    "Public libraries give every child a quiet place to read and learn after school.\n\n"
    "They also lend laptops, teach adults to code and keep the town's café culture alive."
)


def text_of(data: bytes, filename: str) -> str:
    return normalise(extract_text(data, detect_media_type(data, filename), Limits()))


def code_of(data: bytes, filename: str) -> str:
    with pytest.raises(EssayRejectedError) as caught:
        process_upload(data, filename, Limits(min_words=1))
    return str(caught.value.code)


def test_markdown_counts_the_prose_and_none_of_the_markup() -> None:
    source = (
        "# Why libraries matter\n\n"
        "Libraries are *free* and **open** to [everyone in town](https://example.org/a/very/long/path).\n\n"
        "- they lend `books`\n- they teach classes\n\n"
        "```python\nprint('not prose')\n```\n\n"
        "<div>raw html</div>\n\n"
        "![a reading room](room.png)\n"
    )
    text = text_of(source.encode(), "essay.md")
    assert text == normalise(
        "Why libraries matter\n\nLibraries are free and open to everyone in town.\n\n"
        "they lend books\n\nthey teach classes\n\na reading room"
    )
    assert "https" not in text and "print" not in text and "div" not in text


def test_plain_text_keeps_what_looks_like_markup() -> None:
    assert text_of(b"*not* emphasis in a .txt file", "essay.txt") == "*not* emphasis in a .txt file"


def test_an_odt_is_detected_and_read_paragraph_by_paragraph() -> None:
    data = make_odt(odt_paragraphs(ESSAY))
    assert detect_media_type(data, "essay.odt") is MediaType.ODT
    assert detect_media_type(data, "upload.bin") is MediaType.ODT  # by its bytes, not its name
    assert text_of(data, "essay.odt") == normalise(ESSAY)


def test_an_odt_keeps_headings_lists_tables_spaces_and_text_boxes_in_reading_order() -> None:
    body = (
        "<text:h>Heading words</text:h>"
        "<text:p>One<text:s text:c='3'/>two<text:tab/>three<text:line-break/>four"
        "<draw:frame><draw:text-box><text:p>boxed text</text:p></draw:text-box></draw:frame></text:p>"
        "<text:list><text:list-item><text:p>listed item</text:p></text:list-item></text:list>"
        "<table:table><table:table-row><table:table-cell><text:p>cell text</text:p></table:table-cell>"
        "</table:table-row></table:table>"
    )
    text = text_of(make_odt(body), "essay.odt")
    assert words(text) == [
        "Heading", "words", "One", "two", "three", "four", "boxed", "text", "listed", "item", "cell", "text",
    ]  # fmt: skip


def test_an_odt_drops_deletions_notes_and_comments() -> None:
    body = (
        "<text:tracked-changes><text:changed-region><text:deletion><text:p>deleted words</text:p>"
        "</text:deletion></text:changed-region></text:tracked-changes>"
        "<text:p>Kept<text:note><text:note-body><text:p>a footnote</text:p></text:note-body></text:note>"
        " words<office:annotation><dc:creator>T</dc:creator><text:p>a comment</text:p></office:annotation>"
        "</text:p>"
    )
    assert text_of(make_odt(body), "essay.odt") == "Kept words"


def test_an_opendocument_spreadsheet_is_not_an_essay() -> None:
    data = make_odt("<text:p>numbers</text:p>", mimetype="application/vnd.oasis.opendocument.spreadsheet")
    assert code_of(data, "marks.ods") == RejectionCode.UNSUPPORTED_TYPE


def test_an_odt_with_a_doctype_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')
    assert code_of(buffer.getvalue(), "essay.odt") == RejectionCode.TEXT_EXTRACTION_FAILED


def test_an_odt_whose_content_lies_about_its_size_is_refused() -> None:
    data = bytearray(make_odt(odt_paragraphs(ESSAY * 20)))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        entry = archive.getinfo("content.xml")
    # Shrink the declared uncompressed size in the central directory: the real content is longer.
    offset = data.index(b"content.xml", data.index(b"PK\x01\x02")) - 46
    assert data[offset : offset + 4] == b"PK\x01\x02"
    data[offset + 24 : offset + 28] = (entry.file_size // 4).to_bytes(4, "little")
    with pytest.raises(EssayRejectedError) as caught:
        extract_text(bytes(data), MediaType.ODT, Limits())
    assert caught.value.details["reason"] == "declared_size"


def test_rtf_is_detected_and_read_with_its_accents() -> None:
    data = make_rtf(ESSAY)
    assert detect_media_type(data, "essay.txt") is MediaType.RTF
    # RTF ends a paragraph with one \\par: paragraphs come out on lines of their own.
    assert words(text_of(data, "essay.rtf")) == words(normalise(ESSAY))
    assert "café" in text_of(data, "essay.rtf")


def test_every_format_of_one_essay_counts_the_same_words() -> None:
    sources = {
        "essay.txt": ESSAY.encode(),
        "essay.md": ESSAY.encode(),
        "essay.odt": make_odt(odt_paragraphs(ESSAY)),
        "essay.rtf": make_rtf(ESSAY),
    }
    counted = {name: process_upload(data, name, Limits()).metrics.words for name, data in sources.items()}
    assert len(set(counted.values())) == 1, counted
