"""The opaque cursor of a batch listing: the shard to continue in and the last index member returned."""

from __future__ import annotations

import base64
import binascii

from els.errors import InvalidInputError


def encode_cursor(shard: int, after: str) -> str:
    """A URL-safe cursor for continuing in `shard` after index member `after` ('' = from the start)."""
    return base64.urlsafe_b64encode(f"{shard}:{after}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, shards: int) -> tuple[int, str]:
    """The shard and member a cursor encodes; InvalidInputError when it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        shard_text, after = text.split(":", 1)
        shard = int(shard_text)
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise InvalidInputError("malformed cursor", details={"field": "cursor"}) from error
    if not 0 <= shard < shards:
        raise InvalidInputError("cursor names no shard of this deployment", details={"field": "cursor"})
    return shard, after
