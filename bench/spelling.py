"""How well English spelling is judged, per dialect, on labelled sets shipped with the tests.

Run: `uv run python bench/spelling.py`. The sets are in tests/fixtures/ (their sources and licences are
in the files):
- spelling/misspellings.json: 2,862 common misspellings and their corrections sampled from codespell
  (from English Wikipedia's list): recall is the share of misspellings flagged, and `corrections_rejected`
  the share of corrections flagged;
- spelling/dialect_words.json and spelling/dialect_prose.json: British and American spellings and short
  essays, and spelling/dialects.json: 535 British/American pairs from codespell, many of them software
  terms ("serialise", "parameterise"): a word of the right dialect flagged is a false positive, a word of
  the other dialect flagged is the dialect being enforced;
- prose/passages.json: 50 proofread passages of technical documentation (names and code terms count
  as errors, so this is an upper bound on false positives in prose).
Each figure is given for `en-GB`, `en-US` and `en`, and for the checker ELS used before the Hunspell
dictionaries (pyspellchecker's English frequency list plus British-to-American suffix rules), rebuilt
below as the baseline. Speed is the time to load each dialect's word list, and words per second over
the passages. The last line printed is one JSON object.
"""

from __future__ import annotations

import functools
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

if not __package__:
    # Run as a script, bench/ comes first on sys.path and would shadow the project's packages.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from spellchecker import SpellChecker

from essays.hunspell import english_speller
from essays.spelling import count_spelling_errors
from essays.tokens import words

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
TAGS = ("en-GB", "en-US", "en")
ESSAY_WORDS = 500

# The checker before the Hunspell dictionaries: its English list is American, and a British spelling
# counted when one of these suffix rewrites gave a word of that list.
_OLD_BRITISH_TO_AMERICAN = (
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
_old_checker = SpellChecker(language="en")

Count = Callable[[list[str]], int]


def old_errors(tokens: Iterable[str]) -> int:
    """Errors the previous checker counted: lower-cased hyphen parts, possessives and suffix rules."""
    parts: Counter[str] = Counter()
    for token in tokens:
        for part in token.replace("\u2019", "'").lower().split("-"):
            if part and not any(char.isdigit() for char in part):
                parts[part] += 1
    errors = 0
    for part in _old_checker.unknown(set(parts)):
        forms = {part.removesuffix("'s").removesuffix("'")}
        forms |= {part.replace(british, american) for british, american in _OLD_BRITISH_TO_AMERICAN}
        if not _old_checker.known(forms - {part, ""}):
            errors += parts[part]
    return errors


def checkers() -> dict[str, Count]:
    """Each way of counting errors the bench compares, by name."""
    found: dict[str, Count] = {"old": old_errors}
    for tag in TAGS:
        found[tag] = functools.partial(count_spelling_errors, language=tag)
    return found


def flagged_share(count: Count, items: list[str]) -> float:
    """The share of single words `count` finds an error in."""
    return round(sum(count([item]) > 0 for item in items) / len(items), 4)


def speed(passages: list[str]) -> dict[str, float]:
    """Seconds to load each dialect's words, then words per second over the passages and ms per essay."""
    tokens = [token for text in passages for token in words(text)]
    figures: dict[str, float] = {}
    for tag in TAGS:
        started = time.perf_counter()
        english_speller(tag)  # `en` reuses the two lists the dialects loaded
        figures[f"{tag}_load_seconds"] = round(time.perf_counter() - started, 3)
        started = time.perf_counter()
        count_spelling_errors(tokens, tag)
        per_word = (time.perf_counter() - started) / len(tokens)
        figures[f"{tag}_words_per_second"] = round(1 / per_word)
        figures[f"{tag}_ms_per_{ESSAY_WORDS}_words"] = round(1000 * ESSAY_WORDS * per_word, 2)
    started = time.perf_counter()
    old_errors(tokens)
    figures["old_words_per_second"] = round(len(tokens) / (time.perf_counter() - started))
    return figures


def load(name: str) -> dict[str, object]:
    """One fixture file, parsed."""
    value = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return value if isinstance(value, dict) else {}


def strings(value: object) -> list[str]:
    """The strings of a JSON list (the fixtures hold nothing else)."""
    return [str(item) for item in value] if isinstance(value, list) else []


def pairs(value: object) -> list[tuple[str, str]]:
    """The (first, second) pairs of a JSON list of two-string lists."""
    if not isinstance(value, list):
        return []
    return [(str(item[0]), str(item[1])) for item in value if isinstance(item, list)]


def main() -> None:
    """Print the figures, one line per set, then all of them as one JSON object."""
    passages = [str(item["text"]) for item in json.loads((FIXTURES / "prose" / "passages.json").read_text())]
    figures: dict[str, object] = {"speed": speed(passages)}
    misspellings = pairs(load("spelling/misspellings.json")["pairs"])
    dialect_words = load("spelling/dialect_words.json")
    dialect_prose = load("spelling/dialect_prose.json")
    dialect_pairs = pairs(load("spelling/dialects.json")["pairs"])
    passage_tokens = [token for text in passages for token in words(text)]
    for name, count in checkers().items():
        row = {
            "misspellings_recall": flagged_share(count, [wrong for wrong, _ in misspellings]),
            "corrections_rejected": flagged_share(count, [right for _, right in misspellings]),
            "british_words_flagged": flagged_share(count, strings(dialect_words["british"])),
            "american_words_flagged": flagged_share(count, strings(dialect_words["american"])),
            "codespell_british_flagged": flagged_share(count, [british for british, _ in dialect_pairs]),
            "codespell_american_flagged": flagged_share(count, [american for _, american in dialect_pairs]),
        }
        for dialect in ("british", "american"):
            tokens = [token for text in strings(dialect_prose[dialect]) for token in words(text)]
            row[f"{dialect}_prose_errors_per_100_words"] = round(100 * count(tokens) / len(tokens), 2)
        row["passages_errors_per_100_words"] = round(100 * count(passage_tokens) / len(passage_tokens), 2)
        figures[name] = row
        print(name.ljust(6), "  ".join(f"{key} {value}" for key, value in row.items()))
    print("speed", figures["speed"])
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
