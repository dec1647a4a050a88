"""Checks on everything a caller hands the coordinator, made before any Redis call.

Ids never contain `*`, `:`, `{`, `}` or `/`, so they can neither change which key a name denotes nor
which hash slot it lands in, and `/` can separate fields inside index members. A batch or essay id may
carry its owner's scope, `<16 hex>~` (see `els.ids`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from els.errors import InvalidInputError

_ID = re.compile(r"(?:[0-9a-f]{16}~)?[A-Za-z0-9_.-]{1,64}")
_CONTENT_HASH = re.compile(r"[A-Za-z0-9_.:+/=-]{1,128}")
_FINGERPRINT = re.compile(r"[0-9a-f]{64}")

MAX_METADATA_BYTES = 16384
MAX_DETAIL_CHARS = 1000


def check_id(kind: str, value: str) -> str:
    """`value` if it is a valid id (`[A-Za-z0-9_.-]`, 1..64 characters, maybe owner-scoped), else
    InvalidInputError."""
    if not _ID.fullmatch(value):
        raise InvalidInputError(
            f"{kind} must be 1 to 64 characters of A-Z, a-z, 0-9, '_', '.', '-'; got {value[:80]!r}",
            details={"field": kind},
        )
    return value


def check_essay_ids(essay_ids: Sequence[str], max_count: int) -> tuple[str, ...]:
    """The essay ids as a tuple if each is valid, none repeats and the count is within bounds."""
    check_count(len(essay_ids), max_count)
    return _distinct("essay_id", essay_ids, "essay ids of one batch must be distinct")


def check_submission_ids(submission_ids: Sequence[str], max_count: int) -> tuple[str, ...]:
    """The submission ids as a tuple if each is valid, none repeats and there are 1..max_count."""
    if not 1 <= len(submission_ids) <= max_count:
        raise InvalidInputError(
            f"give 1..{max_count} submission ids; got {len(submission_ids)}",
            details={"field": "submission_id"},
        )
    return _distinct("submission_id", submission_ids, "submission ids of one call must be distinct")


def _distinct(kind: str, values: Sequence[str], repeated: str) -> tuple[str, ...]:
    ids = tuple(check_id(kind, value) for value in values)
    if len(set(ids)) != len(ids):
        raise InvalidInputError(repeated, details={"field": f"{kind}s"})
    return ids


def check_count(count: int, max_count: int) -> int:
    """`count` if it is within 1..max_count."""
    if not 1 <= count <= max_count:
        raise InvalidInputError(
            f"expected essay count must be within 1..{max_count}; got {count}", details={"field": "count"}
        )
    return count


def check_positive(kind: str, value: int) -> int:
    """`value` if it is a positive integer."""
    if value < 1:
        raise InvalidInputError(f"{kind} must be positive; got {value}", details={"field": kind})
    return value


def check_deadline(deadline_ms: int, now_ms: int, max_deadline_seconds: int) -> int:
    """`deadline_ms` if it lies after `now_ms` and no further than the longest deadline allowed."""
    if not now_ms < deadline_ms <= now_ms + max_deadline_seconds * 1000:
        raise InvalidInputError(
            f"deadline must lie within (now, now + {max_deadline_seconds} s]",
            details={"field": "deadline_ms"},
        )
    return deadline_ms


def check_content_hash(value: str) -> str:
    """`value` if it is 1..128 characters of A-Z, a-z, 0-9 and `_.:+/=-` (hex, base64, `sha256:...`)."""
    if not _CONTENT_HASH.fullmatch(value):
        raise InvalidInputError(
            "content hash must be 1 to 128 characters of A-Z, a-z, 0-9 and _.:+/=-",
            details={"field": "content_hash"},
        )
    return value


def check_fingerprint(value: str) -> str:
    """`value` if it is a lowercase hex sha256, as `registration_fingerprint` returns."""
    if not _FINGERPRINT.fullmatch(value):
        raise InvalidInputError(
            "fingerprint must be a lowercase hex sha256", details={"field": "fingerprint"}
        )
    return value


def check_json(kind: str, value: str, max_bytes: int) -> str:
    """`value` if it is a JSON document of at most `max_bytes` bytes."""
    if len(value.encode()) > max_bytes:
        raise InvalidInputError(f"{kind} is larger than {max_bytes} bytes", details={"field": kind})
    try:
        json.loads(value)
    except ValueError as error:
        raise InvalidInputError(f"{kind} is not JSON: {error}", details={"field": kind}) from error
    return value


def clip_detail(detail: str) -> str:
    """A failure's human-readable detail, clipped so one record stays small."""
    return detail[:MAX_DETAIL_CHARS]
