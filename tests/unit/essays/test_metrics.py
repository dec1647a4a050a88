"""Metrics count words, sentences, paragraphs and characters exactly."""

from __future__ import annotations

import pytest

from els.errors import InvalidInputError
from els.jsontypes import JsonObject
from essays.metrics import TextMetrics, measure_text


def test_a_small_text_has_exact_counts() -> None:
    text = "The cat sat. The dog ran!\n\nDid they play? Yes."
    assert measure_text(text) == TextMetrics(words=10, sentences=4, paragraphs=2, characters=len(text))


def test_contractions_and_hyphenated_words_count_once() -> None:
    assert measure_text("Don\u2019t over-think it, it's well-known.").words == 5


def test_digits_and_accented_words_count() -> None:
    assert measure_text("In 1440 the caf\u00e9 na\u00efvely opened.").words == 6


def test_a_paragraph_without_final_punctuation_is_still_a_sentence() -> None:
    assert measure_text("A title\n\nA body sentence. Another one").sentences == 3


def test_closing_quotes_after_a_terminator_end_the_sentence() -> None:
    assert measure_text('He shouted "Stop!" Then he left. (It was late.) Done').sentences == 4


def test_blocks_without_words_are_not_paragraphs() -> None:
    assert measure_text("One.\n\n---\n\n* * *\n\nTwo.").paragraphs == 2


def test_empty_text_counts_nothing() -> None:
    assert measure_text("") == TextMetrics(words=0, sentences=0, paragraphs=0, characters=0)


def test_characters_are_code_points() -> None:
    assert measure_text("\u00e9t\u00e9 \U0001f600").characters == 5


def test_metrics_survive_a_json_round_trip() -> None:
    metrics = TextMetrics(words=3, sentences=1, paragraphs=1, characters=17)
    assert metrics.to_json() == {"words": 3, "sentences": 1, "paragraphs": 1, "characters": 17}
    assert TextMetrics.from_json(metrics.to_json()) == metrics


@pytest.mark.parametrize(
    "value",
    [
        {},
        {"words": 1, "sentences": 1, "paragraphs": 1},
        {"words": "1", "sentences": 1, "paragraphs": 1, "characters": 1},
    ],
)
def test_malformed_metrics_json_is_invalid_input(value: JsonObject) -> None:
    with pytest.raises(InvalidInputError):
        TextMetrics.from_json(value)
