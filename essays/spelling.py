"""Spelling errors counted with pyspellchecker's frequency dictionary for the batch's language.

A language pyspellchecker has no dictionary for is refused with UNSUPPORTED_LANGUAGE rather than checked
against another language's words: a wrong dictionary would report most words as errors. Code that
registers batches can ask `supported_language` first. English accepts British spellings whose American
form is in its (American) dictionary. French and Italian elisions are checked without their elided
article or pronoun: "l'école" is "école", "dell'arte" is "arte". Dictionaries load once per language per
process (a load takes 0.1 to 0.7 s) and are only read afterwards, so threads share them.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterable

from spellchecker import SpellChecker

from els.errors import UnsupportedLanguageError

SUPPORTED_LANGUAGES = frozenset(SpellChecker.languages())

# The English dictionary is American; a British spelling counts when its American form is a word.
_BRITISH_TO_AMERICAN = (
    ("our", "or"),
    ("isation", "ization"),
    ("ise", "ize"),
    ("yse", "yze"),
    ("tre", "ter"),
    ("ogue", "og"),
    ("ence", "ense"),
    ("lled", "led"),
    ("lling", "ling"),
)

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
    """How many of `words` (hyphenated parts checked apart, numbers skipped) the dictionary lacks."""
    primary = supported_language(language)
    checker = spell_checker(primary)
    # Essays repeat their words: check each distinct part once, count its occurrences.
    parts: Counter[str] = Counter()
    for word, occurrences in Counter(words).items():
        for part in _checkable_parts(word, primary):
            parts[part] += occurrences
    suspects = {part: _alternatives(part, primary) for part in checker.unknown(set(parts))}
    alternatives = {form for forms in suspects.values() for form in forms}
    known = alternatives - checker.unknown(alternatives)
    return sum(parts[part] for part, forms in suspects.items() if not forms & known)


def spell_checker(language: str) -> SpellChecker:
    """The process's one SpellChecker for a supported language, loaded on first use."""
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


def _alternatives(part: str, language: str) -> set[str]:
    # "Anna's" is no error when "anna" is a word: the dictionary lists only common possessives.
    forms = {part.removesuffix("'s").removesuffix("'")}
    if language == "en":
        forms |= {part.replace(british, american) for british, american in _BRITISH_TO_AMERICAN}
    return forms - {part, ""}
