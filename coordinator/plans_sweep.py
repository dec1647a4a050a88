"""Plans that walk the shards: expiring due batches, re-kicking stuck ones, listing, essay lookup.

Each step is one bounded script call on one shard's index; the walk stops as soon as the caller's limit
is reached, so the cost follows the limit, never the number of batches.
"""

from __future__ import annotations

from coordinator import narrow
from coordinator import validation as check
from coordinator.calls import Done, GetCall, Plan, ScriptCall, ScriptName
from coordinator.config import CoordinatorConfig
from coordinator.cursor import decode_cursor, encode_cursor
from coordinator.keys import KeySpace, ShardKeys
from coordinator.model import BatchPage, BatchSummary, EssayLocation, ExpiredBatch, StuckBatch
from coordinator.replies import parse_expired, parse_list, parse_location, parse_rekick
from els.errors import InvalidInputError

MAX_PAGE = 1000


def _rotation(keys: KeySpace, now_ms: int) -> list[ShardKeys]:
    # Start at a shard that moves with time, so a backlog in one shard cannot starve the others.
    start = now_ms % keys.shards
    return [keys.shard((start + offset) % keys.shards) for offset in range(keys.shards)]


def expire_due(config: CoordinatorConfig, now_ms: int, limit: int) -> Plan[list[ExpiredBatch]]:
    """OPEN -> EXPIRED for at most `limit` batches whose deadline is at or before `now_ms`."""
    check.check_positive("limit", limit)
    expired: list[ExpiredBatch] = []
    for shard in _rotation(config.keys, now_ms):
        while len(expired) < limit:
            asked = limit - len(expired)
            reply = yield ScriptCall(
                ScriptName.EXPIRE, (shard.deadlines, shard.stuck), (shard.base, now_ms, asked)
            )
            scanned, batches = parse_expired(reply)
            expired.extend(batches)
            if scanned < asked:
                break
        if len(expired) >= limit:
            break
    yield Done(expired)


def rekick_stuck(
    config: CoordinatorConfig, now_ms: int, older_than_ms: int, limit: int
) -> Plan[list[StuckBatch]]:
    """At most `limit` batches SEALED, EXPIRED or FINALIZING since before `now_ms - older_than_ms`."""
    check.check_positive("limit", limit)
    if older_than_ms < 0:
        raise InvalidInputError("older_than_ms must not be negative", details={"field": "older_than_ms"})
    stuck: list[StuckBatch] = []
    for shard in _rotation(config.keys, now_ms):
        while len(stuck) < limit:
            asked = limit - len(stuck)
            reply = yield ScriptCall(
                ScriptName.REKICK, (shard.stuck,), (shard.base, now_ms, now_ms - older_than_ms, asked)
            )
            scanned, batches = parse_rekick(reply)
            stuck.extend(batches)
            if scanned < asked:
                break
        if len(stuck) >= limit:
            break
    yield Done(stuck)


def _range(shard: ShardKeys, owner: str | None, after: str) -> tuple[str, str, str]:
    """The index key and the lexical range after `after` of one shard's listing."""
    if owner is None:
        return shard.active, f"({after}" if after else "-", "+"
    # Owner members are "<owner>/..."; '0' is the character after '/', so "(<owner>0" ends the range.
    return shard.owners, f"({after}" if after else f"[{owner}/", f"({owner}0"


def list_active_batches(
    config: CoordinatorConfig, owner: str | None, cursor: str | None, limit: int
) -> Plan[BatchPage]:
    """A page of not-DONE batches (all, or one owner's), shard by shard in creation order."""
    if owner is not None:
        check.check_id("owner", owner)
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInputError(f"limit must be within 1..{MAX_PAGE}", details={"field": "limit"})
    shard_number, after = (0, "") if cursor is None else decode_cursor(cursor, config.keys.shards)
    if owner is not None and after and not after.startswith(f"{owner}/"):
        raise InvalidInputError("cursor belongs to another listing", details={"field": "cursor"})
    batches: list[BatchSummary] = []
    while shard_number < config.keys.shards and len(batches) < limit:
        shard = config.keys.shard(shard_number)
        index, low, high = _range(shard, owner, after)
        asked = limit - len(batches)
        reply = yield ScriptCall(ScriptName.LIST, (index,), (shard.base, low, high, asked))
        scanned, last, found = parse_list(reply)
        batches.extend(found)
        if scanned < asked:
            shard_number, after = shard_number + 1, ""
        else:
            after = last
    next_cursor = encode_cursor(shard_number, after) if shard_number < config.keys.shards else None
    yield Done(BatchPage(batches=tuple(batches), next_cursor=next_cursor))


def lookup(config: CoordinatorConfig, essay_id: str, owner: str | None) -> Plan[EssayLocation | None]:
    """Where an essay id is registered: one GET per shard in one pipeline, whatever the number of batches.

    Explicit essay ids are unique within a shard, not across shards; when several live batches hold
    the id, the one registered last wins (among `owner`'s batches when an owner is given).
    """
    check.check_id("essay_id", essay_id)
    if owner is not None:
        check.check_id("owner", owner)
    shards = config.keys.all_shards()
    reply = yield GetCall(tuple(shard.essay(essay_id) for shard in shards))
    locations = [
        location
        for raw in narrow.array(reply, len(shards))
        if (location := parse_location(raw, essay_id)) is not None
        and (owner is None or location.owner == owner)
    ]
    yield Done(max(locations, key=lambda location: location.created_ms, default=None))
