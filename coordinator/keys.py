"""Every Redis key the coordinator uses, and the shard tag that keeps a batch's keys in one hash slot.

A batch lives in shard `crc32(batch_id) % shards`; every key of that batch and the shard's indexes carry
the same hash tag `{sNN}`, so each script touches one slot (legal on Redis Cluster) while the indexes are
spread over `shards` keys instead of one hot key.

    <prefix>:{sNN}:batch:<batch_id>           HASH  the batch: meta fields, <slot> -> slot record,
                                                    i:<slot> -> essay id (explicit ids only),
                                                    s:<submission> -> outcome, r:<submission> -> receipt,
                                                    inflight -> receipts not settled,
                                                    h:<content digest> -> slot (see scripts/lib.lua)
    <prefix>:{sNN}:batch:<batch_id>:pending   HASH  submission id -> claim/failure parked before registration
    <prefix>:{sNN}:deadlines                  ZSET  OPEN batches, score = deadline ms
    <prefix>:{sNN}:active                     ZSET  not-DONE batches, member "<created_ms>/<batch_id>"
    <prefix>:{sNN}:owners                     ZSET  not-DONE batches, member "<owner>/<created_ms>/<batch_id>"
    <prefix>:{sNN}:stuck                      ZSET  SEALED/EXPIRED/FINALIZING batches, score = state-change ms
    <prefix>:{sNN}:tokens                     STR   counter behind finalize tokens
    <prefix>:{sNN}:fence                      STR   written before each WAIT (coordinator/replication.py)

Index members carry the creation time zero-padded to 15 digits, so lexical order is creation order.
The Lua side names derived keys the same way (`els_batch_key` and `els_pending_key` in scripts/lib.lua).
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from dataclasses import dataclass
from functools import cached_property


def shard_of(batch_id: str, shards: int) -> int:
    """The shard a batch lives in: fixed by its id and the deployment's shard count."""
    return zlib.crc32(batch_id.encode()) % shards


@dataclass(frozen=True)
class ShardKeys:
    """The keys of one shard: its indexes, and the names of the batch and essay keys inside it."""

    shard: int
    base: str

    @property
    def deadlines(self) -> str:
        """ZSET of OPEN batches scored by deadline ms."""
        return f"{self.base}:deadlines"

    @property
    def active(self) -> str:
        """Lexical ZSET of not-DONE batches ordered by creation."""
        return f"{self.base}:active"

    @property
    def owners(self) -> str:
        """Lexical ZSET of not-DONE batches ordered by owner, then creation."""
        return f"{self.base}:owners"

    @property
    def stuck(self) -> str:
        """ZSET of SEALED/EXPIRED/FINALIZING batches scored by state-change ms."""
        return f"{self.base}:stuck"

    @property
    def parked(self) -> str:
        """ZSET of batches not registered yet that have parked claims, scored by when those lapse."""
        return f"{self.base}:parked"

    @property
    def tokens(self) -> str:
        """Counter from which finalize tokens are drawn."""
        return f"{self.base}:tokens"

    @property
    def fence(self) -> str:
        """STRING written before each WAIT, so the WAIT covers every write the shard's primary holds."""
        return fence_of(self.base)

    def batch(self, batch_id: str) -> BatchKeys:
        """The keys of a batch living in this shard."""
        return BatchKeys(batch_id=batch_id, shard=self, base=f"{self.base}:batch:{batch_id}")


@dataclass(frozen=True)
class BatchKeys:
    """The keys of one batch, in the KEYS order every batch script shares (see scripts/lib.lua)."""

    batch_id: str
    shard: ShardKeys
    base: str

    @property
    def hash(self) -> str:
        """HASH holding everything about the batch (one key, so a claim is one read and one write)."""
        return self.base

    @property
    def completion_turn(self) -> str:
        """STRING with a TTL: a completion of the batch was dispatched lately (see `take_completion_turn`)."""
        return f"{self.base}:completion"

    @property
    def pending(self) -> str:
        """HASH of claims and failures parked before the batch was registered."""
        return f"{self.base}:pending"

    @cached_property
    def layout(self) -> tuple[str, ...]:
        """KEYS[1..4] of a batch script: batch hash, pending, the shard's deadlines and stuck indexes."""
        return (self.hash, self.pending, self.shard.deadlines, self.shard.stuck)


@dataclass(frozen=True)
class KeySpace:
    """Key naming for one deployment: a prefix and a fixed number of shards."""

    prefix: str
    shards: int

    def shard(self, shard: int) -> ShardKeys:
        """The keys of shard number `shard`."""
        return ShardKeys(shard=shard, base=f"{self.prefix}:{{s{shard:02d}}}")

    def batch(self, batch_id: str) -> BatchKeys:
        """The keys of a batch, in the shard its id maps to (cached: claims of a batch come in runs)."""
        return _batch_keys(self, batch_id)


_BATCH_KEYS_CACHED = 4096
_batch_keys_cache: dict[tuple[KeySpace, str], BatchKeys] = {}


def _batch_keys(space: KeySpace, batch_id: str) -> BatchKeys:
    found = _batch_keys_cache.get((space, batch_id))
    if found is None:
        if len(_batch_keys_cache) >= _BATCH_KEYS_CACHED:
            _batch_keys_cache.clear()  # a bounded cache; batches come and go
        found = space.shard(shard_of(batch_id, space.shards)).batch(batch_id)
        _batch_keys_cache[(space, batch_id)] = found
    return found


def fence_of(key: str) -> str:
    """The fence of the shard `key` belongs to: `<prefix>:{sNN}:fence` for any `<prefix>:{sNN}...` key,
    so it shares the key's hash slot (and so its primary on a Redis Cluster)."""
    return f"{key[: key.index('}') + 1]}:fence"


def content_digest(content_hash: str) -> str:
    """The 22-character field name part under which a batch records the slot holding this content: 128
    bits of BLAKE2b over the caller's content hash, base64url, so every claimed slot's key is short."""
    digest = hashlib.blake2b(content_hash.encode(), digest_size=16).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
