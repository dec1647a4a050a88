"""Spelling errors counted against the dictionary of the batch's language and, for English, its dialect.

English is checked with Hunspell dictionaries (essays/hunspell.py): `en-GB` British, `en-US` American,
`en` and other English tags either. Other languages use pyspellchecker's frequency dictionary for the
tag's primary language. A language without a dictionary is refused with UNSUPPORTED_LANGUAGE rather
than checked against another language's words: a wrong dictionary would report most words as errors.
Code that registers batches can ask `supported_language` first. French and Italian elisions are
checked without their elided article or pronoun: "l'école" is "école", "dell'arte" is "arte".
Dictionaries load once per language per process and are only read afterwards, so threads share them.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterable

from spellchecker import SpellChecker

from els.errors import UnsupportedLanguageError
from essays.hunspell import EnglishSpeller, english_speller

SUPPORTED_LANGUAGES = frozenset(SpellChecker.languages())

_DIGIT = re.compile(r"\d")
# The elided words a French or Italian word may carry in front of it, apostrophe included.
_ELISIONS = {
    "fr": re.compile(r"^(?:jusqu|lorsqu|puisqu|quoiqu|qu|[cdjlmnst])'"),
    "it": re.compile(r"^(?:dell|dall|nell|sull|all|coll|quell|bell|sant|un|[cdlmnst])'"),
}

_checkers: dict[str, SpellChecker] = {}
_checkers_lock = threading.Lock()


def supported_language(tag: str) -> str:
    """The dictionary language of a tag such as "en" or "en-GB"; raises UnsupportedLanguageError."""
    primary = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    if primary not in SUPPORTED_LANGUAGES:
        known = ", ".join(sorted(SUPPORTED_LANGUAGES))
        raise UnsupportedLanguageError(
            f"essays in '{tag}' cannot be analysed; supported languages: {known}",
            details={"language": tag},
        )
    return primary


def count_spelling_errors(words: Iterable[str], language: str) -> int:
    """How many of `words` (hyphenated parts checked apart, numbers skipped) the dictionary of the
    tag `language` lacks; an English tag's region picks the dialect ("en-GB", "en-US")."""
    primary = supported_language(language)
    # Essays repeat their words: check each distinct word once, count its occurrences.
    counts = Counter(words)
    if primary == "en":
        speller = english_speller(language)
        return sum(speller.misspelt_parts(word) * occurrences for word, occurrences in counts.items())
    checker = spell_checker(primary)
    parts: Counter[str] = Counter()
    for word, occurrences in counts.items():
        for part in _checkable_parts(word, primary):
            parts[part] += occurrences
    suspects = {part: _stem(part) for part in checker.unknown(set(parts))}
    stems = {stem for stem in suspects.values() if stem}
    known = stems - checker.unknown(stems)
    return sum(parts[part] for part, stem in suspects.items() if stem not in known)


def load_dictionary(language: str) -> EnglishSpeller | SpellChecker:
    """Load the dictionary a tag is checked against now, so that no essay waits for it."""
    primary = supported_language(language)
    return english_speller(language) if primary == "en" else spell_checker(primary)


def spell_checker(language: str) -> SpellChecker:
    """The process's one pyspellchecker SpellChecker for a supported language, loaded on first use."""
    primary = supported_language(language)
    with _checkers_lock:
        checker = _checkers.get(primary)
        if checker is None:
            checker = SpellChecker(language=primary)
            _checkers[primary] = checker
        return checker


def _checkable_parts(word: str, language: str) -> list[str]:
    lowered = word.replace("\u2019", "'").lower()
    elision = _ELISIONS.get(language)
    if elision is not None:
        lowered = elision.sub("", lowered)
    return [part for part in lowered.split("-") if part and not _DIGIT.search(part)]


def _stem(part: str) -> str:
    # "Anna's" is no error when "anna" is a word: the dictionary lists only common possessives.
    stem = part.removesuffix("'s").removesuffix("'")
    return "" if stem == part else stem
