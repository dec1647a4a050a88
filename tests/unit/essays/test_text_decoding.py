"""Plain text decodes by byte-order mark, then UTF-8, then charset detection; otherwise it fails."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from els.errors import EssayRejectedError, RejectionCode
from essays.text_decoding import decode_text, looks_like_text
from tests.support.documents import random_binary

FRENCH = "Le café était très animé, où les élèves étudiaient le français avec plaisir. " * 3


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_byte_order_marks_decide_the_encoding(encoding: str) -> None:
    data = FRENCH.encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be"):
        mark = codecs.BOM_UTF16_LE if encoding.endswith("le") else codecs.BOM_UTF16_BE
        data = mark + data
    assert decode_text(data) == FRENCH


def test_utf16_without_a_mark_is_not_mistaken_for_utf8_with_nuls() -> None:
    assert decode_text(FRENCH.encode("utf-16-le")) == FRENCH


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_western_legacy_text_keeps_its_accents(encoding: str) -> None:
    assert decode_text(FRENCH.encode(encoding)) == FRENCH


def test_windows_1252_punctuation_survives() -> None:
    text = "He said \u201chello\u201d \u2013 it\u2019s a na\u00efve caf\u00e9, isn\u2019t it? " * 3
    assert decode_text(text.encode("cp1252")) == text


def test_invalid_utf8_falls_back_to_a_legacy_encoding_instead_of_failing() -> None:
    data = "Caf\u00e9s and cr\u00e8mes: a long paragraph about French food. ".encode() * 3 + b" \xe9t\xe9"
    assert "a long paragraph about French food." in decode_text(data)


def test_a_byte_order_mark_over_invalid_data_fails_extraction() -> None:
    with pytest.raises(EssayRejectedError) as raised:
        decode_text(codecs.BOM_UTF16_LE + b"a\x00\x00\xd8")
    assert raised.value.code == RejectionCode.TEXT_EXTRACTION_FAILED
    assert raised.value.details == {"reason": "encoding"}


def test_random_binary_fails_extraction_and_does_not_look_like_text() -> None:
    data = random_binary(2048)
    assert not looks_like_text(data)
    with pytest.raises(EssayRejectedError) as raised:
        decode_text(data)
    assert raised.value.code == "TEXT_EXTRACTION_FAILED"


def test_nul_bytes_inside_utf8_text_still_decode() -> None:
    assert decode_text(b"An essay\x00 with a stray NUL.") == "An essay\x00 with a stray NUL."


@given(st.text().filter(lambda text: "\x00" not in text and not text.startswith("\ufeff")))
def test_any_utf8_text_decodes_to_itself(text: str) -> None:
    assert decode_text(text.encode("utf-8")) == text
