"""Bounds on what callers send, checked before the first write: everything here is something SQL or
a log line must be able to hold.

Strings carry no control characters or lone surrogates (PostgreSQL refuses NUL, and neither belongs
in an id, a course code or a log), numbers are finite, metadata is small and shallow, ids are never
the path segments `.` or `..`, and filenames lose their directories and control characters before
they are stored or echoed. The API schemas run the same checks, so an HTTP caller hears about them
before any route runs; the services run them again for every other caller.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Iterable

from coordinator.validation import MAX_METADATA_BYTES, check_id
from els.errors import InvalidInputError
from els.ids import SEPARATOR, scoped_id
from els.jsontypes import JsonObject, JsonValue

MAX_METADATA_DEPTH = 8
MAX_METADATA_KEYS = 256
MAX_FILENAME_CHARS = 255
DEFAULT_FILENAME = "upload"
_PATH_SEGMENTS = frozenset({".", ".."})
# Control characters (C0, DEL, C1) and lone surrogates, which no encoder can write.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs"})


def check_plain_id(kind: str, value: str) -> str:
    """`value` if it is a valid public id (see `check_id`, with no owner scope) and not the path segment
    `.` or `..`."""
    check_id(kind, value)
    if SEPARATOR in value:
        raise InvalidInputError(
            f"{kind} must be 1 to 64 characters of A-Z, a-z, 0-9, '_', '.', '-'; got {value[:80]!r}",
            details={"field": kind},
        )
    if value in _PATH_SEGMENTS:
        raise InvalidInputError(f"{kind} must not be {value!r}", details={"field": kind})
    return value


def owned_id(owner: str, kind: str, value: str) -> str:
    """The scoped id of the owner's public id `value` (see `els.ids`), once `check_plain_id` passes."""
    return scoped_id(owner, check_plain_id(kind, value))


def check_text(kind: str, value: str) -> str:
    """`value` if it holds no control character and no lone surrogate."""
    if any(unicodedata.category(char) in _REFUSED_CATEGORIES for char in value):
        raise InvalidInputError(f"{kind} must not contain control characters", details={"field": kind})
    return value


def canonical_metadata(metadata: JsonObject) -> str:
    """The metadata as canonical JSON, once it is shallow, small, finite and free of control characters."""
    _check_tree(metadata)
    text = json.dumps(metadata, sort_keys=True, separators=(",", ":"), allow_nan=False)
    if len(text.encode()) > MAX_METADATA_BYTES:
        raise InvalidInputError(
            f"metadata is larger than {MAX_METADATA_BYTES} bytes as JSON", details={"field": "metadata"}
        )
    return text


def clean_filename(name: str) -> str:
    """The last path part of `name` without control characters, clipped; `upload` when nothing is left."""
    printable = "".join(char for char in name if unicodedata.category(char) not in _REFUSED_CATEGORIES)
    base = printable.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if base in _PATH_SEGMENTS:
        base = ""
    return base[:MAX_FILENAME_CHARS] or DEFAULT_FILENAME


def _check_tree(metadata: JsonObject) -> None:
    # Iterative, so a deep document is refused at the depth bound instead of exhausting the stack.
    keys = 0
    pending: list[tuple[JsonValue, int]] = [(metadata, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list) and depth > MAX_METADATA_DEPTH:
            raise _invalid(f"metadata nests deeper than {MAX_METADATA_DEPTH} levels")
        if isinstance(value, dict):
            keys += len(value)
            if keys > MAX_METADATA_KEYS:
                raise _invalid(f"metadata has more than {MAX_METADATA_KEYS} keys")
            _check_strings(value.keys())
            pending.extend((child, depth + 1) for child in value.values())
        elif isinstance(value, list):
            pending.extend((child, depth + 1) for child in value)
        elif isinstance(value, str):
            _check_strings((value,))
        elif isinstance(value, float) and not math.isfinite(value):
            raise _invalid("metadata numbers must be finite (no NaN or Infinity)")


def _check_strings(values: Iterable[str]) -> None:
    for value in values:
        check_text("metadata", value)


def _invalid(message: str) -> InvalidInputError:
    return InvalidInputError(message, details={"field": "metadata"})
