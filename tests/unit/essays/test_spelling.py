"""English spelling per dialect against the shipped Hunspell dictionaries, measured on labelled sets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from spylls.hunspell import Dictionary

from els.errors import UnsupportedLanguageError
from essays.analysis import analyse_text
from essays.hunspell import DICTIONARIES, english_speller
from essays.spelling import count_spelling_errors, load_dictionary, spell_checker
from essays.tokens import words

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def fixture(name: str) -> dict[str, object]:
    value = json.loads((FIXTURES / "spelling" / name).read_text(encoding="utf-8"))
    assert isinstance(value, dict)
    return value


def strings(value: object) -> list[str]:
    assert isinstance(value, list)
    return [str(item) for item in value]


def pairs(name: str) -> list[tuple[str, str]]:
    value = fixture(name)
    assert "CC BY-SA 3.0" in str(value["licence"]) and "codespell" in str(value["source"])
    items = value["pairs"]
    assert isinstance(items, list)
    return [(str(item[0]), str(item[1])) for item in items]


def flagged(items: list[str], tag: str) -> list[str]:
    return [item for item in items if count_spelling_errors([item], tag)]


def test_the_dictionaries_ship_with_their_licences() -> None:
    for name in ("en_GB", "en_US"):
        assert (DICTIONARIES / f"{name}.aff").is_file() and (DICTIONARIES / f"{name}.dic").is_file()
        assert "Kevin Atkinson" in (DICTIONARIES / f"{name}.copyright").read_text(encoding="utf-8")
    assert "LGPL" in (DICTIONARIES / "README_en_GB.txt").read_text(encoding="utf-8")


def test_nine_in_ten_common_misspellings_are_flagged_and_their_corrections_mostly_accepted() -> None:
    sample = pairs("misspellings.json")
    assert len(sample) > 2000
    # `en` accepts a word either dictionary knows, so it flags the fewest: the bound holds for all three.
    missed = [wrong for wrong, _ in sample if not count_spelling_errors([wrong], "en")]
    assert len(missed) <= 0.1 * len(sample), missed[:20]
    rejected = flagged([right for _, right in sample], "en")
    assert len(rejected) <= 0.05 * len(sample), rejected[:20]


@pytest.mark.parametrize(("dialect", "tags"), [("british", ["en-GB", "en"]), ("american", ["en-US", "en"])])
def test_essays_in_either_dialect_have_no_more_than_one_false_positive_in_a_hundred_words(
    dialect: str, tags: list[str]
) -> None:
    tokens = [token for text in strings(fixture("dialect_prose.json")[dialect]) for token in words(text)]
    assert len(tokens) > 300
    for tag in tags:
        assert count_spelling_errors(tokens, tag) <= 0.01 * len(tokens)


def test_each_dialect_accepts_its_spellings_and_flags_the_other_ones() -> None:
    lists = fixture("dialect_words.json")
    british, american = strings(lists["british"]), strings(lists["american"])
    assert flagged(british, "en-GB") == [] and flagged(american, "en-US") == []
    assert flagged(british + american, "en") == []
    # The British dictionary accepts Oxford -ize spellings, so not every American form is flagged.
    assert len(flagged(american, "en-GB")) >= 0.6 * len(american)
    assert len(flagged(british, "en-US")) >= 0.9 * len(british)
    assert count_spelling_errors(["color", "center", "traveled", "organize"], "en-GB") == 3
    assert count_spelling_errors(["colour", "centre", "travelled", "organise"], "en-US") == 4


def test_codespell_dialect_pairs_are_mostly_accepted_by_their_own_dialect() -> None:
    sample = pairs("dialects.json")
    assert len(flagged([british for british, _ in sample], "en-GB")) <= 0.1 * len(sample)
    assert len(flagged([american for _, american in sample], "en-US")) <= 0.1 * len(sample)
    assert len(flagged([british for british, _ in sample], "en-US")) >= 0.9 * len(sample)


def test_tags_ignore_case_and_take_underscores_and_other_regions_accept_either_dialect() -> None:
    assert english_speller("en-GB") is english_speller(" EN_gb ")
    assert english_speller("en") is english_speller("en-AU")
    assert english_speller("en") is not english_speller("en-US")
    assert count_spelling_errors(["colour", "color"], "EN_us") == 1
    assert count_spelling_errors(["colour", "color"], "en-au") == 0
    assert load_dictionary("de") is spell_checker("de")
    with pytest.raises(UnsupportedLanguageError) as raised:
        count_spelling_errors(["word"], "sv-SE")
    assert raised.value.code == "UNSUPPORTED_LANGUAGE"


def test_compounds_count_each_misspelt_part_unless_the_dictionary_knows_them_whole() -> None:
    assert (
        count_spelling_errors(["well-known", "mother-in-law", "colour-blind", "self-organising"], "en-GB")
        == 0
    )
    assert count_spelling_errors(["well-knwon"], "en") == 1
    assert count_spelling_errors(["recieve-definately"], "en") == 2


def test_apostrophes_possessives_case_acronyms_and_code_words() -> None:
    tokens = [
        "don't",
        "can\u2019t",
        "students'",
        "Anna\u2019s",
        "Koskinen's",
        "COLOUR",
        "London",
        "BBC",
        "PDFs",
    ]
    assert count_spelling_errors(tokens, "en-GB") == 1  # the dictionary knows no Koskinen
    assert count_spelling_errors(["ZPixmap", "XKB", "COVID-19", "1999", "2nd"], "en") == 0
    assert count_spelling_errors(["london"], "en-GB") == 1  # a name takes its capital, as in Hunspell


def test_analysis_checks_against_the_batch_tags_dialect() -> None:
    text = "The colour of the centre was grey."
    assert analyse_text(text, "en-GB").spelling_errors == 0
    assert analyse_text(text, "en-US").spelling_errors == 3
    assert analyse_text(text, "en").spelling_errors == 0
    assert analyse_text(text, "en-US").language == "en"


@pytest.mark.parametrize("name", ["en_GB", "en_US"])
def test_the_word_lists_agree_with_hunspells_own_lookup_on_every_fixture_word(name: str) -> None:
    # spylls reads the .aff/.dic the lists were expanded from and looks words up as Hunspell does.
    dictionary = Dictionary.from_files(str(DICTIONARIES / name))
    speller = english_speller("en-GB" if name == "en_GB" else "en-US")
    lists = fixture("dialect_words.json")
    prose = fixture("dialect_prose.json")
    candidates = {word for pair in pairs("misspellings.json") + pairs("dialects.json") for word in pair}
    candidates |= set(strings(lists["british"]) + strings(lists["american"]))
    candidates |= {
        token for key in ("british", "american") for text in strings(prose[key]) for token in words(text)
    }
    checked = [word for word in candidates if "-" not in word and not any(char.isdigit() for char in word)]
    checked += [word.capitalize() for word in checked[:500]]
    disagree = [word for word in checked if (speller.misspelt_parts(word) == 0) != dictionary.lookup(word)]
    assert len(checked) > 6000 and disagree == []
