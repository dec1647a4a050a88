"""From the text of a PDF's pages to the essay: running heads and page numbers dropped, lines rejoined.

A PDF holds lines where the word processor broke them, so what the page shows as one essay comes back
with two artefacts:

- **running headers and footers** (a name, a title, "Page 3 of 5") repeat on every page. A short line
  (at most `MAX_RUNNING_WORDS` words) in the first or last `MARGIN_LINES` lines of a page longer than its
  margins is dropped when the same line, digits aside, stands in the margin of at least half the pages
  (and of two pages at least), and so is a margin line that is only a page number;
- **hyphenated line ends**: "exam-" at the end of a line followed by "ple" is the word "example". A hyphen
  at a line end between letters, with a lower-case letter after the break, is removed with the break.
  A compound that happens to break at its own hyphen keeps it (only the break goes) when the document
  says it is one: the hyphenated form stands elsewhere on one line and the joined one does not
  ("byte-order"), or, with neither form elsewhere, the word on either side has a hyphen of its own
  ("out-of-" and "range", "bits-" and "per-pixel"). Otherwise the hyphen goes: printers split words
  more often than compounds.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import partial

from essays.tokens import words

MARGIN_LINES = 2
MAX_RUNNING_WORDS = 12

_DIGITS = re.compile(r"\d+")
_PAGE_NUMBER = re.compile(r"^\W*(?:page\s*)?\d+(?:\s*(?:of|/)\s*\d+)?\W*$", re.IGNORECASE)
_HYPHENATED_BREAK = re.compile(r"(?<=[^\W\d_])-[ \t]*\n[ \t]*(?=[^\W\d_])")
_PAGE_BREAK_HYPHEN = re.compile(r"(?<=[^\W\d_])-[ \t]*\n\n[ \t]*(?=[^\W\d_])")
# The letters of a word before a line-end hyphen, and the word (with any hyphens of its own) after it.
_WORD_BEFORE = re.compile(r"[^\W\d_]+(-[^\W\d_]+)*$")
_WORD_AFTER = re.compile(r"[^\W\d_]+(-[^\W\d_]+)*")
# How far either side of a break a word is looked for; longer words are rare enough to split.
_WORD_REACH = 64


def join_pages(pages: Sequence[str]) -> str:
    """The essay's text from its pages' texts: margins cleaned, pages separated by blank lines."""
    lines = [page.splitlines() for page in pages]
    repeated = _repeated_margin_lines(lines)
    kept = ["\n".join(_without_running_lines(page, repeated)) for page in lines]
    return _rejoin_hyphenated(kept)


def _margin(page: list[str]) -> list[str]:
    if len(page) <= 2 * MARGIN_LINES:
        return []  # a page that is all margin is all text
    return [
        line for line in page[:MARGIN_LINES] + page[-MARGIN_LINES:] if len(line.split()) <= MAX_RUNNING_WORDS
    ]


def _key(line: str) -> str:
    return _DIGITS.sub("#", " ".join(line.split()).lower())


def _repeated_margin_lines(pages: list[list[str]]) -> frozenset[str]:
    if len(pages) < 2:
        return frozenset()
    counts = Counter(key for page in pages for key in {_key(line) for line in _margin(page) if line.strip()})
    needed = max(2, (len(pages) + 1) // 2)
    return frozenset(key for key, count in counts.items() if count >= needed)


def _without_running_lines(page: list[str], repeated: frozenset[str]) -> list[str]:
    last = len(page) - 1
    has_margins = len(page) > 2 * MARGIN_LINES
    kept: list[str] = []
    for index, line in enumerate(page):
        in_margin = index < MARGIN_LINES or index > last - MARGIN_LINES
        running = has_margins and _key(line) in repeated
        if in_margin and (running or _PAGE_NUMBER.match(line)):
            continue
        kept.append(line)
    return kept


def _rejoin_hyphenated(pages: list[str]) -> str:
    # Across a page break too: "exam-" ending one page and "ple" starting the next is one word.
    text = "\n\n".join(pages)
    # The words the document writes whole, on one line: its own evidence for a compound.
    known = {word.casefold() for word in words(text)}
    join = partial(_join_if_lower, known=known)
    return _HYPHENATED_BREAK.sub(join, _PAGE_BREAK_HYPHEN.sub(join, text))


def _join_if_lower(match: re.Match[str], known: set[str]) -> str:
    text = match.string
    following = text[match.end() : match.end() + 1]
    if not following.islower():
        return match.group(0)
    before = _WORD_BEFORE.search(text, max(0, match.start() - _WORD_REACH), match.start())
    after = _WORD_AFTER.match(text, match.end(), match.end() + _WORD_REACH)
    if before is None or after is None:
        return ""
    left, right = before.group(0).casefold(), after.group(0).casefold()
    if f"{left}-{right}" in known and f"{left}{right}" not in known:
        return "-"
    if f"{left}{right}" in known:
        return ""
    compound = before.group(1) is not None or after.group(1) is not None
    return "-" if compound else ""
