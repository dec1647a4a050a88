"""Canonical text: the form every essay is measured, hashed and stored in.

Line endings become `\n` (every break `str.splitlines` knows), control characters other than `\n` and
`\t` are dropped (with stray byte-order marks, lone surrogates and soft hyphens), trailing whitespace is
trimmed from each line, runs of blank lines collapse to one, blank lines at either end go, and the
result is Unicode NFC. NFC comes last because dropping a character can bring a base letter and a
combining mark together; applying `normalise` twice changes nothing. Every step is linear in the text's
length.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

# C0 and C1 controls except \t and \n, the byte-order mark, and surrogates (never valid in text). The
# soft hyphen goes too: it marks where a word may break and is invisible unless it does, yet it would
# split the word it sits in ("extra\u00adordinary"); .odt and .rtf keep one wherever the writer put it.
_DROPPED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\ufeff\ud800-\udfff]+")
_BLANK_LINE_RUN = re.compile(r"\n{3,}")


def normalise(text: str) -> str:
    """The canonical form of `text` (see the module docstring for every rule)."""
    unified = "\n".join(text.splitlines())
    cleaned = _DROPPED.sub("", unified)
    # rstrip per line, not a `\s+$` pattern, which backtracks quadratically on long runs of spaces.
    trimmed = "\n".join(line.rstrip() for line in cleaned.split("\n"))
    collapsed = _BLANK_LINE_RUN.sub("\n\n", trimmed).strip("\n")
    return unicodedata.normalize("NFC", collapsed)


def content_hash(normalised_text: str) -> str:
    """sha256 hex digest of the normalised text's UTF-8 bytes: equal texts, equal hashes."""
    return hashlib.sha256(normalised_text.encode("utf-8")).hexdigest()
