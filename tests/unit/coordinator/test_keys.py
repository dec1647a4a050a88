"""Key naming: one hash tag per shard, every key of a batch in its shard, stable shard choice."""

from __future__ import annotations

import re

from coordinator.cursor import decode_cursor, encode_cursor
from coordinator.keys import KeySpace, fence_of, shard_of

TAG = re.compile(r"\{([^}]*)\}")


def hash_tag(key: str) -> str:
    match = TAG.search(key)
    assert match is not None, key
    return match.group(1)


def test_every_key_of_a_batch_and_its_shard_indexes_share_one_hash_tag() -> None:
    keys = KeySpace(prefix="els", shards=16).batch("batch-42")
    shard = keys.shard
    names = [*keys.layout, shard.active, shard.owners, shard.tokens]
    assert {hash_tag(name) for name in names} == {f"s{shard.shard:02d}"}
    assert keys.hash == f"els:{{s{shard.shard:02d}}}:batch:batch-42"


def test_shard_choice_is_crc32_of_the_batch_id_and_spreads() -> None:
    assert shard_of("batch-42", 16) == shard_of("batch-42", 16)
    assert len({shard_of(f"b{n}", 16) for n in range(200)}) == 16
    assert all(shard_of(f"b{n}", 1) == 0 for n in range(20))


def test_cursor_round_trips() -> None:
    member = "alice/001800000000000/b-1"
    assert decode_cursor(encode_cursor(7, member), 16) == (7, member)
    assert decode_cursor(encode_cursor(0, ""), 16) == (0, "")


def test_the_fence_of_any_key_of_a_shard_is_the_shards_fence_in_the_same_slot() -> None:
    keys = KeySpace(prefix="els", shards=16).batch("batch-42")
    shard = keys.shard
    for name in (*keys.layout, shard.active, shard.owners, shard.tokens, shard.parked):
        assert fence_of(name) == shard.fence == f"els:{{s{shard.shard:02d}}}:fence"
    assert hash_tag(shard.fence) == hash_tag(keys.hash)
