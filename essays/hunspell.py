"""English spelling against the Hunspell dictionaries shipped in essays/dictionaries, read with spylls.

`en-GB` is checked against the British dictionary, `en-US` against the American one, and any other
English tag (`en`, `en-AU`, ...) against both: a word either knows is correct. The British dictionary
accepts Oxford spellings ("organize" as well as "organise") but not American ones ("color",
"center", "traveled"); the American one refuses British spellings. A word is looked up as written,
so case follows Hunspell: "London" is a word, "london" is not, "COLOUR" is "colour". A hyphenated
compound is correct when the dictionary knows it whole or knows each of its parts; a possessive
("Blinn's", "students'") when the dictionary knows it or its stem. Acronyms (two or more capitals)
and words with a digit or a capital after a lower-case letter ("ZPixmap") are skipped: they are
names and code, not spellings a dictionary can judge. A dictionary loads once per process (1 to 2 s
with spylls) and is only read afterwards; each distinct word is looked up once and remembered.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable
from pathlib import Path

from spylls.hunspell import Dictionary

DICTIONARIES = Path(__file__).resolve().parent / "dictionaries"
# The dictionaries of each English dialect tag; any other English tag uses both.
_DIALECT_FILES = {"en-gb": ("en_GB",), "en-us": ("en_US",)}
_EITHER = ("en_GB", "en_US")
# Distinct words remembered per dialect: several essays' vocabularies, a few MB at most.
_CACHED_WORDS = 200_000

_SKIPPED = re.compile(r"\d|[a-z][A-Z]|[A-Z]{2}[a-z]|^[A-Z]{2,}$")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'"})

_loaded: dict[str, Dictionary] = {}
_spellers: dict[tuple[str, ...], EnglishSpeller] = {}
_lock = threading.Lock()


class EnglishSpeller:
    """Judges English words against one or more Hunspell dictionaries (correct if any knows them)."""

    def __init__(self, dictionaries: tuple[Dictionary, ...]) -> None:
        """Check against `dictionaries`; lookups are remembered per distinct word."""
        self._dictionaries = dictionaries
        self._known: Callable[[str], bool] = functools.lru_cache(maxsize=_CACHED_WORDS)(self._lookup)

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

    def _lookup(self, word: str) -> bool:
        return any(dictionary.lookup(word) for dictionary in self._dictionaries)


def english_speller(tag: str) -> EnglishSpeller:
    """The process's one speller for an English tag ("en", "en-GB", "en_us", ...), loaded on first use."""
    names = _DIALECT_FILES.get(tag.strip().replace("_", "-").lower(), _EITHER)
    with _lock:
        speller = _spellers.get(names)
        if speller is None:
            speller = EnglishSpeller(tuple(_dictionary(name) for name in names))
            _spellers[names] = speller
        return speller


def _dictionary(name: str) -> Dictionary:
    # Called under the lock: `en` and `en-GB` share the British dictionary rather than load it twice.
    dictionary = _loaded.get(name)
    if dictionary is None:
        dictionary = Dictionary.from_files(str(DICTIONARIES / name))
        _loaded[name] = dictionary
    return dictionary
