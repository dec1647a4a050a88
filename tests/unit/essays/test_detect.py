"""Detection: magic bytes decide first, the extension second, and anything else is refused."""

from __future__ import annotations

import pytest

from els.errors import EssayRejectedError, RejectionCode
from essays.detect import MediaType, detect_media_type, file_extension
from tests.support.documents import make_docx, make_non_docx_zip, make_pdf, random_binary

TEXT = b"A short essay about the school garden.\n"


def rejection_of(data: bytes, filename: str) -> RejectionCode:
    with pytest.raises(EssayRejectedError) as raised:
        detect_media_type(data, filename)
    return raised.value.rejection


def test_magic_bytes_outrank_a_misleading_extension() -> None:
    assert detect_media_type(make_pdf("Some text."), "essay.txt") is MediaType.PDF
    assert detect_media_type(make_docx("Some text."), "essay.pdf") is MediaType.DOCX


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("essay.txt", MediaType.TEXT),
        ("ESSAY.TXT", MediaType.TEXT),
        ("essay.text", MediaType.TEXT),
        ("essay", MediaType.TEXT),
        ("essay.md", MediaType.MARKDOWN),
        ("notes.markdown", MediaType.MARKDOWN),
        ("C:\\Users\\pupil\\essay.md", MediaType.MARKDOWN),
    ],
)
def test_text_without_magic_is_typed_by_its_extension(filename: str, expected: MediaType) -> None:
    assert detect_media_type(TEXT, filename) is expected


@pytest.mark.parametrize("filename", ["essay.html", "essay.rtf", "essay.odt", "essay.pdf", "essay.docx"])
def test_text_under_any_other_extension_is_unsupported(filename: str) -> None:
    assert rejection_of(TEXT, filename) is RejectionCode.UNSUPPORTED_TYPE


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"\xff\xd8\xff\xe0\x00\x10JFIF",
        b"GIF89a\x01\x00\x01\x00",
        b"RIFF\x24\x00\x00\x00WEBPVP8 ",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64),
        b"\x1f\x8b\x08\x00" + bytes(16),
    ],
)
def test_known_binary_formats_are_unsupported_even_named_txt(data: bytes) -> None:
    assert rejection_of(data, "essay.txt") is RejectionCode.UNSUPPORTED_TYPE


def test_random_binary_is_unsupported_whatever_its_name() -> None:
    for filename in ("essay.txt", "essay.md", "essay"):
        assert rejection_of(random_binary(4096), filename) is RejectionCode.UNSUPPORTED_TYPE


def test_a_zip_that_is_not_a_word_document_is_unsupported() -> None:
    assert rejection_of(make_non_docx_zip(), "essay.docx") is RejectionCode.UNSUPPORTED_TYPE


def test_an_unreadable_archive_is_a_damaged_docx_only_when_named_so() -> None:
    truncated = make_docx("Some text.")[:200]
    assert rejection_of(truncated, "essay.docx") is RejectionCode.TEXT_EXTRACTION_FAILED
    assert rejection_of(truncated, "essay.zip") is RejectionCode.UNSUPPORTED_TYPE


def test_the_rejection_names_the_extension() -> None:
    with pytest.raises(EssayRejectedError) as raised:
        detect_media_type(TEXT, "photo.heic")
    assert raised.value.code == "UNSUPPORTED_TYPE"
    assert raised.value.details == {"extension": ".heic"}


def test_file_extension_reads_any_client_path() -> None:
    assert file_extension("a/b/Essay.DOCX") == ".docx"
    assert file_extension("C:\\work\\essay.final.pdf") == ".pdf"
    assert file_extension(".bashrc") == ""
