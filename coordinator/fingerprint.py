"""The fingerprint of a registration request, which tells a replay from a conflict."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from pydantic import JsonValue, TypeAdapter

# A typed JSON parser (json.loads answers Any).
_JSON: TypeAdapter[JsonValue] = TypeAdapter(JsonValue)


def registration_fingerprint(
    owner: str, essay_ids: Sequence[str] | int, deadline_seconds: int, metadata_json: str
) -> str:
    """sha256 hex of the canonical request; `essay_ids` is the explicit id list or the expected count.

    The metadata is compared as JSON (key order and spacing do not matter); the correlation id is not
    part of it, so a retried request with a fresh correlation id is still a replay.
    """
    essays: list[JsonValue] | int = essay_ids if isinstance(essay_ids, int) else list(essay_ids)
    canonical: dict[str, JsonValue] = {
        "owner": owner,
        "essays": essays,
        "deadline_seconds": deadline_seconds,
        "metadata": _JSON.validate_json(metadata_json),
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()
