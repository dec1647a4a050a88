"""English spelling against word lists expanded from the Hunspell dictionaries in essays/dictionaries.

`en-GB` is checked against the British dictionary, `en-US` against the American one, and any other
English tag (`en`, `en-AU`, ...) against both: a word either knows is correct. The British dictionary
accepts Oxford spellings ("organize" as well as "organise") but not American ones ("color",
"center", "traveled"); the American one refuses British spellings. Each dictionary ships as the
words it accepts, affixes applied (`dictionaries/build_words.py`), and a word is looked up with
Hunspell's case rule: as written, or lower-cased when only its first letter is a capital ("London"
and "Colour" are words, "london" is not). A hyphenated compound is correct when the dictionary knows
it whole or knows each of its parts; a possessive ("Blinn's", "students'") when the dictionary knows it
or its stem. Acronyms (two or more capitals) and words with a digit or a capital after a lower-case
letter ("ZPixmap") are skipped: they are names and code, not spellings a dictionary can judge. A word
list loads once per process (0.1 to 0.3 s) and is only read afterwards, so threads share it.
"""

from __future__ import annotations

import gzip
import re
import threading
from pathlib import Path

DICTIONARIES = Path(__file__).resolve().parent / "dictionaries"
# The dictionaries of each English dialect tag; any other English tag uses both.
_DIALECT_FILES = {"en-gb": ("en_GB",), "en-us": ("en_US",)}
_EITHER = ("en_GB", "en_US")

_SKIPPED = re.compile(r"\d|[a-z][A-Z]|[A-Z]{2}[a-z]|^[A-Z]{2,}$")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'"})

_loaded: dict[str, frozenset[str]] = {}
_spellers: dict[tuple[str, ...], EnglishSpeller] = {}
_lock = threading.Lock()


class EnglishSpeller:
    """Judges English words against one or more dictionaries' words (correct if any knows them)."""

    def __init__(self, dictionaries: tuple[frozenset[str], ...]) -> None:
        """Check against the word sets of `dictionaries`."""
        self._dictionaries = dictionaries

    def misspelt_parts(self, word: str) -> int:
        """How many errors `word` holds: 0 or 1, or one per misspelt part of a hyphenated compound."""
        word = word.translate(_APOSTROPHES).strip("'-")
        if not word or _SKIPPED.search(word) or self._known(word):
            return 0
        parts = [part for part in word.split("-") if part]
        if len(parts) == 1:
            return 0 if self._possessive(word) else 1
        return sum(self.misspelt_parts(part) for part in parts)

    def _possessive(self, word: str) -> bool:
        # The dictionaries list common possessives only; a name's is correct when the name is.
        for ending in ("'s", "'"):
            stem = word.removesuffix(ending)
            if stem != word and stem and self._known(stem):
                return True
        return False

    def _known(self, word: str) -> bool:
        # Hunspell's case rule: a capital first letter alone may begin a sentence, so "Colour" is
        # "colour"; a lower-case name ("london") is not the name.
        lowered = word.lower() if word[1:].islower() or len(word) == 1 else word
        return any(word in words or lowered in words for words in self._dictionaries)


def english_speller(tag: str) -> EnglishSpeller:
    """The process's one speller for an English tag ("en", "en-GB", "en_us", ...), loaded on first use."""
    names = _DIALECT_FILES.get(tag.strip().replace("_", "-").lower(), _EITHER)
    with _lock:
        speller = _spellers.get(names)
        if speller is None:
            speller = EnglishSpeller(tuple(_words(name) for name in names))
            _spellers[names] = speller
        return speller


def _words(name: str) -> frozenset[str]:
    # Called under the lock: `en` and `en-GB` share the British words rather than load them twice.
    words = _loaded.get(name)
    if words is None:
        text = gzip.decompress((DICTIONARIES / f"{name}.words.gz").read_bytes()).decode("utf-8")
        words = frozenset(text.split("\n")) - {""}
        _loaded[name] = words
    return words
