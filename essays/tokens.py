"""How text splits into words, sentences and paragraphs; shared by metrics and analysis.

A word starts with a letter or digit and runs on through letters, digits, underscores and the combining
marks of the supported scripts; an apostrophe or hyphen inside joins: "don't" and "well-known" are one
word each. A sentence ends at `.`, `!`, `?`, `…` (or their CJK forms) followed by whitespace, and at a
paragraph break; so "e.g. this" is two sentences: a heuristic, stated. A paragraph is a block between
blank lines holding a word.
"""

from __future__ import annotations

import re

# Combining marks (Latin, Cyrillic, Arabic vowel signs) and the Persian zero-width non-joiner sit
# inside words yet are not `\w`. A word starts with a letter or digit; one character class per step
# keeps the scan fast on megabyte-long tokens.
_INNER = "[\\w\u0300-\u036f\u0483-\u0489\u064b-\u065f\u0670\u200c]"
# Apostrophes: ASCII and U+2019; the hyphen is ASCII.
_WORD = re.compile(f"[^\\W_]{_INNER}*(?:['\u2019\\-]{_INNER}+)*")
_HAS_WORD = re.compile("[^\\W_]")
_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n\s*")
# A terminator (. ! ? … or an ideographic full stop, exclamation or question mark), any closing
# quotes or brackets, then whitespace.
_SENTENCE_END = re.compile("(?<=[.!?\u2026\u3002\uff01\uff1f])[\"'\u201d\u2019\u00bb)\\]]*\\s+")


def words(text: str) -> list[str]:
    """Every word of `text`, in order, as written."""
    return [match.group(0) for match in _WORD.finditer(text)]


def paragraphs(text: str) -> list[str]:
    """The blocks of `text` between blank lines that hold at least one word."""
    return [block for block in _PARAGRAPH_BREAK.split(text) if _HAS_WORD.search(block)]


def sentences(text: str) -> list[str]:
    """The sentences of `text` that hold at least one word."""
    return [
        piece for block in paragraphs(text) for piece in _SENTENCE_END.split(block) if _HAS_WORD.search(piece)
    ]
