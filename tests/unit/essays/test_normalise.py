"""Normalisation: one canonical text, reached in one step, whatever the input."""

from __future__ import annotations

import hashlib
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from essays.normalise import content_hash, normalise

LINE_BREAKS = ["\r", "\n", "\r\n", "\u2028", "\x85", "\x0c", "\n\n\n", "  \n"]
INVISIBLES = ["\x00", "\x07", "\ufeff", "\ud800", " ", "\t", "\u00a0", "\u2000"]
COMBINING = ["e\u0301", "\u0301", "\u0327", "A\u030a", "\u212b"]
AWKWARD = st.sampled_from([*LINE_BREAKS, *INVISIBLES, *COMBINING])
TEXTS = st.lists(st.one_of(st.characters(), AWKWARD, st.text(max_size=5))).map("".join)


def test_line_endings_are_unified() -> None:
    assert normalise("one\r\ntwo\rthree\u2028four\x85five") == "one\ntwo\nthree\nfour\nfive"


def test_control_characters_go_but_tabs_and_newlines_stay() -> None:
    assert normalise("a\x00b\x07c\x1bd\x7fe\x9ff\tg\nh") == "abcdef\tg\nh"


def test_byte_order_marks_and_lone_surrogates_go() -> None:
    assert normalise("\ufeffStart\ufeff and \ud800end") == "Start and end"


def test_soft_hyphens_go_so_the_words_they_sit_in_stay_whole() -> None:
    assert normalise("an extra\u00adordinary\u00ad essay") == "an extraordinary essay"


def test_runs_of_blank_lines_collapse_to_one() -> None:
    assert normalise("one\n\n\n\n\ntwo\n \t \n\nthree") == "one\n\ntwo\n\nthree"


def test_trailing_whitespace_and_outer_blank_lines_are_trimmed() -> None:
    assert normalise("\n\n  indented stays  \t\nend\u00a0\u3000 \n\n\n") == "  indented stays\nend"


def test_text_becomes_nfc_even_when_a_dropped_control_split_a_letter_from_its_accent() -> None:
    assert normalise("cafe\u0301") == "caf\u00e9"
    assert normalise("e\x00\u0301") == "\u00e9"


def test_content_hash_is_sha256_of_the_utf8_text() -> None:
    assert content_hash("caf\u00e9") == hashlib.sha256("caf\u00e9".encode()).hexdigest()


def test_equal_texts_in_different_forms_hash_equal() -> None:
    windows = "Title\r\n\r\n\r\nCafe\u0301 au lait.  \r\n"
    unix = "Title\n\nCaf\u00e9 au lait."
    assert content_hash(normalise(windows)) == content_hash(normalise(unix))


@settings(max_examples=500)
@given(TEXTS)
def test_normalising_twice_changes_nothing(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once


@given(TEXTS)
def test_normalised_text_is_canonical(text: str) -> None:
    result = normalise(text)
    assert unicodedata.is_normalized("NFC", result)
    assert "\r" not in result
    assert "\n\n\n" not in result
    assert not result.startswith("\n")
    assert not result.endswith("\n")
    for line in result.split("\n"):
        assert line == line.rstrip()
    for char in result:
        assert char in "\t\n" or unicodedata.category(char) not in ("Cc", "Cs")
    result.encode("utf-8")
