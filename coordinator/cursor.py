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


# -- the cursor of a batch's slot listing ---------------------------------------------------------------

MAX_SLOT_CURSOR_CHARS = 32  # "slot:<index>" base64-encoded, an index of up to 10 digits
_SLOT_PREFIX = "slot:"


def encode_slot_cursor(slot: int) -> str:
    """A URL-safe cursor for continuing a slot listing at slot index `slot`."""
    return base64.urlsafe_b64encode(f"{_SLOT_PREFIX}{slot}".encode()).decode().rstrip("=")


def decode_slot_cursor(cursor: str, max_slots: int) -> int:
    """The slot index a slot cursor encodes, within 0..max_slots; InvalidInputError when it is not one of
    ours. The length is checked before anything is decoded."""
    if len(cursor) > MAX_SLOT_CURSOR_CHARS:
        raise InvalidInputError("malformed cursor", details={"field": "cursor"})
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise InvalidInputError("malformed cursor", details={"field": "cursor"}) from error
    digits = text.removeprefix(_SLOT_PREFIX)
    # isdecimal() also admits other scripts' digits; the cursor is only ever ASCII 0-9.
    if digits == text or not digits.isascii() or not digits.isdecimal() or len(digits) > 10:
        raise InvalidInputError("malformed cursor", details={"field": "cursor"})
    slot = int(digits)
    if slot > max_slots:
        raise InvalidInputError("cursor lies past any batch of this deployment", details={"field": "cursor"})
    return slot
