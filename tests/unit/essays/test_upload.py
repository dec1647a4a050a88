"""process_upload: every rejection code from one entry point, and hostile inputs handled."""

from __future__ import annotations

import dataclasses
import hashlib
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from els.errors import EssayRejectedError, RejectionCode
from els.settings import Settings
from essays.detect import MediaType
from essays.upload import ProcessedEssay, process_upload
from essays.validate import Limits
from tests.support.documents import (
    make_corrupt_pdf,
    make_docx,
    make_encrypted_pdf,
    make_pdf,
    make_zip_bomb_docx,
    random_binary,
)

LIMITS = Limits()
ESSAY = (
    "Our school garden is a quiet place where pupils grow beans, carrots and sunflowers.\n\n"
    "Every Friday the science class measures the plants and records how tall they have grown."
)


def rejection(data: bytes, filename: str, limits: Limits = LIMITS) -> EssayRejectedError:
    with pytest.raises(EssayRejectedError) as raised:
        process_upload(data, filename, limits)
    return raised.value


def test_a_text_essay_is_accepted_normalised_hashed_and_counted() -> None:
    essay = process_upload(
        b"\xef\xbb\xbf" + ESSAY.replace("\n", "\r\n").encode() + b"  \r\n", "a.txt", LIMITS
    )
    assert essay == ProcessedEssay(
        text=ESSAY,
        content_hash=hashlib.sha256(ESSAY.encode()).hexdigest(),
        media_type=MediaType.TEXT,
        metrics=essay.metrics,
    )
    assert (essay.metrics.words, essay.metrics.sentences, essay.metrics.paragraphs) == (29, 2, 2)


def test_the_same_text_in_every_format_has_the_same_words() -> None:
    uploads = {
        "a.md": ESSAY.encode("utf-16"),
        "a.docx": make_docx(ESSAY),
        "a.pdf": make_pdf(ESSAY),
    }
    expected = ESSAY.split()
    for filename, data in uploads.items():
        assert process_upload(data, filename, LIMITS).text.split() == expected


def test_the_same_text_as_txt_and_docx_hashes_equal() -> None:
    as_text = process_upload(ESSAY.encode(), "a.txt", LIMITS)
    as_docx = process_upload(make_docx(ESSAY), "b.docx", LIMITS)
    assert as_docx.media_type is MediaType.DOCX
    assert as_docx.content_hash == as_text.content_hash


@pytest.mark.parametrize(
    ("data", "filename", "code"),
    [
        (b"", "essay.txt", RejectionCode.EMPTY_CONTENT),
        (b"", "essay.png", RejectionCode.EMPTY_CONTENT),
        (b" \r\n\t\x00\r\n", "essay.txt", RejectionCode.EMPTY_CONTENT),
        (b"--- ... !!!", "essay.md", RejectionCode.EMPTY_CONTENT),
        (b"Far too short.", "essay.txt", RejectionCode.CONTENT_TOO_SHORT),
        (b"\x89PNG\r\n\x1a\n" + bytes(32), "photo.png", RejectionCode.UNSUPPORTED_TYPE),
        (random_binary(1000), "essay.txt", RejectionCode.UNSUPPORTED_TYPE),
        (make_corrupt_pdf(), "essay.pdf", RejectionCode.TEXT_EXTRACTION_FAILED),
        (make_encrypted_pdf(ESSAY), "essay.pdf", RejectionCode.ENCRYPTED_FILE),
        (make_pdf(ESSAY, pages=101), "essay.pdf", RejectionCode.CONTENT_TOO_LONG),
    ],
)
def test_every_rejection_carries_its_specific_code(data: bytes, filename: str, code: RejectionCode) -> None:
    error = rejection(data, filename)
    assert error.rejection is code
    assert error.code == code.value
    assert str(error).startswith(f"[{code.value}] ")


def test_a_pdf_without_a_text_layer_is_empty() -> None:
    assert rejection(make_pdf("", pages=2), "scan.pdf").code == "EMPTY_CONTENT"


def test_a_zip_bomb_is_refused_as_unreadable() -> None:
    error = rejection(make_zip_bomb_docx(), "bomb.docx")
    assert error.code == "TEXT_EXTRACTION_FAILED"
    assert error.details["reason"] == "uncompressed_size"


def test_an_upload_over_the_byte_cap_is_too_long_and_the_cap_itself_is_allowed() -> None:
    data = ESSAY.encode()
    error = rejection(data, "a.txt", Limits(max_upload_bytes=len(data) - 1))
    assert error.code == "CONTENT_TOO_LONG"
    assert error.details == {"limit": "max_upload_bytes", "actual": len(data), "maximum": len(data) - 1}
    process_upload(data, "a.txt", Limits(max_upload_bytes=len(data)))


def test_word_limits_are_inclusive() -> None:
    words = process_upload(ESSAY.encode(), "a.txt", LIMITS).metrics.words
    process_upload(ESSAY.encode(), "a.txt", Limits(min_words=words, max_words=words))
    assert rejection(ESSAY.encode(), "a.txt", Limits(min_words=words + 1)).code == "CONTENT_TOO_SHORT"
    error = rejection(ESSAY.encode(), "a.txt", Limits(max_words=words - 1))
    assert error.code == "CONTENT_TOO_LONG"
    assert error.details == {"limit": "max_words", "actual": words, "maximum": words - 1}


def test_nul_bytes_are_dropped_from_an_otherwise_valid_essay() -> None:
    laced = ESSAY.encode().replace(b" ", b" \x00", 5)
    essay = process_upload(laced, "a.txt", LIMITS)
    assert "\x00" not in essay.text
    assert essay.text == ESSAY


def test_a_huge_single_line_is_counted_and_refused_as_too_long() -> None:
    line = b"word " * 500_000
    error = rejection(line, "a.txt")
    assert error.details == {"limit": "max_words", "actual": 500_000, "maximum": 10_000}


def test_a_huge_run_of_spaces_and_a_huge_token_are_handled() -> None:
    essay = process_upload(b" " * 3_000_000 + b"x\n" + ESSAY.encode(), "a.txt", LIMITS)
    assert essay.text.startswith(" " * 3_000_000 + "x\n")
    assert rejection(b"a" * 5_000_000, "a.txt").code == "CONTENT_TOO_SHORT"


def test_processed_essay_serialises_to_json() -> None:
    essay = process_upload(ESSAY.encode(), "a.md", LIMITS)
    assert essay.to_json() == {
        "text": ESSAY,
        "content_hash": essay.content_hash,
        "media_type": "text/markdown",
        "metrics": essay.metrics.to_json(),
    }


def test_limits_default_to_the_settings_defaults() -> None:
    defaults = Settings()
    for field in dataclasses.fields(Limits):
        if hasattr(defaults, field.name):
            assert getattr(LIMITS, field.name) == getattr(defaults, field.name), field.name


def test_inconsistent_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="min_words"):
        Limits(min_words=50, max_words=10)
    with pytest.raises(ValueError, match="positive"):
        Limits(pdf_max_seconds=0)


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=2048),
    st.sampled_from(["a.txt", "a.md", "a", "a.docx", "a.pdf", "a.png"]),
)
def test_any_bytes_either_become_an_essay_or_are_rejected_with_a_code(data: bytes, filename: str) -> None:
    try:
        essay = process_upload(data, filename, Limits(min_words=0))
    except EssayRejectedError as error:
        assert error.code in set(RejectionCode)
    else:
        assert essay.metrics.words > 0


def test_a_rejection_survives_pickling_and_rebuilding_from_its_args() -> None:
    error = rejection(b"Far too short.", "a.txt")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.rejection, copy.code, copy.message, copy.details) == (
        error.rejection,
        "CONTENT_TOO_SHORT",
        error.message,
        error.details,
    )
    rebuilt = EssayRejectedError(*error.args)
    assert (rebuilt.code, rebuilt.message) == ("CONTENT_TOO_SHORT", error.message)
