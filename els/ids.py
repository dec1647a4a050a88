"""Owner-scoped ids: one owner's batch and essay ids never meet another owner's.

An owner names a batch (and maybe its essays) with a public id, `[A-Za-z0-9_.-]{1,64}`, unique among
that owner's ids only. Inside ELS (SQL rows, Redis keys, task messages, events) the id is scoped:
`<owner tag>~<public id>`, the tag being the first 16 hex digits of sha256(owner). Two owners' equal
public ids are two different scoped ids, so another owner's id answers exactly like a free one.

The services scope what an owner sends and show the owner public ids; `~` never occurs in a public id,
so the public id is whatever follows the first `~`.
"""

from __future__ import annotations

import hashlib

from els.jsontypes import JsonObject, JsonValue

SEPARATOR = "~"
TAG_CHARS = 16


def owner_tag(owner: str) -> str:
    """The owner's tag: 16 hex digits of sha256(owner), the same in every process."""
    return hashlib.sha256(owner.encode()).hexdigest()[:TAG_CHARS]


def scoped_id(owner: str, public: str) -> str:
    """The id ELS stores for the owner's `public` id."""
    return f"{owner_tag(owner)}{SEPARATOR}{public}"


def public_id(scoped: str) -> str:
    """The id the owner gave, from a scoped id (an unscoped id is returned as it is)."""
    _, separator, public = scoped.partition(SEPARATOR)
    return public if separator else scoped


def public_object(value: JsonObject, owner: str) -> JsonObject:
    """`value` (a stored report) with the owner's scoped ids made public again."""
    prefix = owner_tag(owner) + SEPARATOR
    return {key: _unprefixed(item, prefix) for key, item in value.items()}


def _unprefixed(value: JsonValue, prefix: str) -> JsonValue:
    if isinstance(value, str):
        return value.removeprefix(prefix)
    if isinstance(value, list):
        return [_unprefixed(item, prefix) for item in value]
    if isinstance(value, dict):
        return {key: _unprefixed(item, prefix) for key, item in value.items()}
    return value


def public_payload(payload: str, owner: str) -> str:
    """A JSON document's text with every string that is one of the owner's scoped ids made public.

    Exact on JSON text: a string opens with `"`, and a tag (hex and `~`) has nothing to escape.
    """
    return payload.replace(f'"{owner_tag(owner)}{SEPARATOR}', '"')
