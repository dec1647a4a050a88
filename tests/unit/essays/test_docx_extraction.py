"""A .docx is read after zip-bomb guards pass on its central directory, and no further than it declares."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import pytest

from els.errors import EssayRejectedError, RejectionCode
from essays.docx_extraction import ArchiveCaps, check_archive, extract_docx_text
from essays.validate import Limits
from tests.support.documents import (
    MIB,
    make_corrupt_docx,
    make_damaged_docx,
    make_docx,
    make_docx_declaring_size,
    make_docx_lying_about_size,
    make_docx_with_entries,
    make_zip_bomb_docx,
)

DEFAULT_CAPS = ArchiveCaps(
    max_uncompressed_bytes=Limits().docx_max_uncompressed_bytes,
    max_compression_ratio=Limits().docx_max_compression_ratio,
    max_entries=Limits().docx_max_entries,
)
NO_CAPS = ArchiveCaps(max_uncompressed_bytes=2**40, max_compression_ratio=2**40, max_entries=2**20)


def refusal(data: bytes, caps: ArchiveCaps) -> EssayRejectedError:
    with pytest.raises(EssayRejectedError) as raised:
        extract_docx_text(data, caps)
    return raised.value


def test_paragraphs_come_back_separated_by_blank_lines() -> None:
    text = "First paragraph.\n\nSecond paragraph,\nwith a line break."
    assert extract_docx_text(make_docx(text), DEFAULT_CAPS) == text


def test_table_rows_are_kept_in_document_order() -> None:
    data = make_docx("Before the table.", table=[["Name", "Score"], ["Ada", "10"]])
    assert extract_docx_text(data, DEFAULT_CAPS) == "Before the table.\n\nName\tScore\nAda\t10"


def test_a_bomb_over_the_size_cap_is_refused_by_the_size_guard() -> None:
    error = refusal(make_zip_bomb_docx(64 * MIB), DEFAULT_CAPS)
    assert error.code == RejectionCode.TEXT_EXTRACTION_FAILED
    assert error.details["reason"] == "uncompressed_size"
    assert error.details["maximum"] == 50 * MIB


def test_a_bomb_under_the_size_cap_is_refused_by_the_ratio_guard() -> None:
    error = refusal(make_zip_bomb_docx(8 * MIB), DEFAULT_CAPS)
    assert error.details["reason"] == "compression_ratio"
    ratio = error.details["actual"]
    assert isinstance(ratio, int) and ratio > 100


def test_the_guards_decide_on_declared_sizes_without_inflating_anything() -> None:
    # The archive's real content is a few kilobytes; only its central directory claims 3 GB. A
    # refusal for size can therefore come only from reading that directory.
    forged = make_docx_declaring_size(3_000_000_000)
    error = refusal(forged, DEFAULT_CAPS)
    assert error.details["reason"] == "uncompressed_size"
    actual = error.details["actual"]
    assert isinstance(actual, int) and actual > 3_000_000_000
    assert extract_docx_text(forged, NO_CAPS) == "A document that lies about its size."


def test_too_many_entries_are_refused_before_anything_else() -> None:
    error = refusal(make_docx_with_entries(20), ArchiveCaps(2**40, 2**20, max_entries=25))
    assert error.details["reason"] == "entry_count"
    check_archive(make_docx_with_entries(20), ArchiveCaps(2**40, 2**20, max_entries=40))


def test_an_ordinary_docx_passes_every_default_guard() -> None:
    check_archive(make_docx("An ordinary essay. " * 2000), DEFAULT_CAPS)


@pytest.mark.parametrize("data", [make_corrupt_docx(), make_damaged_docx(), b"PK\x03\x04 not really"])
def test_corrupt_documents_fail_extraction(data: bytes) -> None:
    error = refusal(data, DEFAULT_CAPS)
    assert error.code == "TEXT_EXTRACTION_FAILED"
    assert error.details["reason"] == "corrupt"


def test_a_docx_inflating_past_its_declared_size_is_refused_within_bounded_memory() -> None:
    # 256 MiB of real output behind a central directory (and CRC) declaring the 1.6 KB document: it
    # passes every declared-size guard, and a reader that inflates first and cuts after accepts it.
    lying = make_docx_lying_about_size(256 * MIB)
    with zipfile.ZipFile(io.BytesIO(lying)) as archive:
        declared = archive.getinfo("word/document.xml").file_size
    check_archive(lying, DEFAULT_CAPS)
    tracemalloc.start()
    try:
        error = refusal(lying, DEFAULT_CAPS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.code == RejectionCode.TEXT_EXTRACTION_FAILED
    assert error.details == {"reason": "declared_size", "part": "word/document.xml", "maximum": declared}
    assert peak < 64 * MIB
