"""The coordinator's walks over the shards (expiry, re-kick, listing, gauges): each bounded by the
caller's limit and by a page per script, never by the number of batches."""

from __future__ import annotations

import logging

from coordinator import validation as check
from coordinator.clock import now_ms as local_now_ms
from coordinator.cursor import decode_cursor, encode_cursor
from coordinator.keys import ShardKeys
from coordinator.lua import ScriptName
from coordinator.model import BatchPage, BatchSummary, ExpiredBatch, LiveFigures, StuckBatch
from coordinator.replies import parse_expired, parse_gauges, parse_list, parse_rekick
from coordinator.runner import ScriptRunner, moment
from els.errors import InvalidInputError, NotReplicatedError

log = logging.getLogger(__name__)

MAX_PAGE = 1000
MAX_PARKED_BATCHES = 1000  # per shard, per gauges call: one HLEN each


class ShardWalks(ScriptRunner):
    """expire.lua, rekick.lua, list.lua and gauges.lua, called shard by shard."""

    def _rotation(self, now_ms: int | None) -> list[ShardKeys]:
        # Start at a shard that moves with time, so a backlog in one shard cannot starve the others
        # (any clock does for that).
        keys = self.config.keys
        start = (local_now_ms() if now_ms is None else now_ms) % keys.shards
        return [keys.shard((start + offset) % keys.shards) for offset in range(keys.shards)]

    def expire_due(self, now_ms: int | None, limit: int) -> list[ExpiredBatch]:
        """expire.lua per shard: OPEN -> EXPIRED for at most `limit` batches due at `now_ms`, each once.

        A due batch still waiting for uploads received in time is held (within the late grace): it stays
        in the index, and the walk skips past it, so a shard of held batches cannot stall the walk. Each
        call looks at most at `expire_batches_per_call` due entries, so no one script blocks Redis for long
        when many batches share a deadline; the walk calls again until `limit` or the shard is done. A
        shard whose replicas do not confirm a call is skipped (logged), with the other shards of its
        primary: the batches that call expired are not handed out, and the re-kick hands them out once the
        replicas hold them.
        """
        check.check_positive("limit", limit)
        grace_ms, per_call = self.config.late_grace_ms, self.config.expire_batches_per_call
        expired: list[ExpiredBatch] = []
        lagging: set[int] = set()  # primaries whose replicas did not confirm a call of this walk
        for shard in self._rotation(now_ms):
            if self._primary_of(shard.deadlines) in lagging:
                continue
            held = 0  # held entries stay first among the shard's due entries: later calls skip them
            while len(expired) < limit:
                asked = min(limit - len(expired), per_call)
                try:
                    reply = self._run(
                        ScriptName.EXPIRE,
                        (shard.deadlines, shard.stuck),
                        (shard.base, moment(now_ms), asked, grace_ms, held),
                    )
                except NotReplicatedError as error:
                    lagging.add(self._skip(shard, shard.deadlines, "expiry", error))
                    break
                scanned, newly_held, batches = parse_expired(reply)
                expired.extend(batches)
                held += newly_held
                if scanned < asked:
                    break
            if len(expired) >= limit:
                break
        return expired

    def rekick_stuck(self, now_ms: int | None, older_than_ms: int, limit: int) -> list[StuckBatch]:
        """rekick.lua per shard: batches sealed, expired or finalizing for over `older_than_ms`.

        A shard whose replicas do not confirm a call is skipped (logged), with the other shards of its
        primary, so a primary without its replicas holds back only its own batches, and only once per walk;
        they are handed out by a later walk.
        """
        check.check_positive("limit", limit)
        if older_than_ms < 0:
            raise InvalidInputError("older_than_ms must not be negative", details={"field": "older_than_ms"})
        stuck: list[StuckBatch] = []
        lagging: set[int] = set()  # primaries whose replicas did not confirm a call of this walk
        for shard in self._rotation(now_ms):
            if self._primary_of(shard.stuck) in lagging:
                continue
            while len(stuck) < limit:
                asked = limit - len(stuck)
                try:
                    reply = self._run(
                        ScriptName.REKICK, (shard.stuck,), (shard.base, moment(now_ms), older_than_ms, asked)
                    )
                except NotReplicatedError as error:
                    lagging.add(self._skip(shard, shard.stuck, "re-kick", error))
                    break
                scanned, batches = parse_rekick(reply)
                stuck.extend(batches)
                if scanned < asked:
                    break
            if len(stuck) >= limit:
                break
        return stuck

    def _skip(self, shard: ShardKeys, key: str, walk: str, error: NotReplicatedError) -> int:
        """Log a shard the walk leaves for later (its primary took the call, its replicas did not confirm
        it) and return that primary, whose other shards the walk then skips too."""
        log.warning(
            "%s skips shard %d and the others of its primary for now: %s", walk, shard.shard, error.message
        )
        return self._primary_of(key)

    def list_active_batches(self, owner: str | None, cursor: str | None, limit: int) -> BatchPage:
        """list.lua per shard: a page of not-DONE batches (all or one owner's), creation order per shard.

        Pass the page's `next_cursor` to continue.
        """
        if owner is not None:
            check.check_id("owner", owner)
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInputError(f"limit must be within 1..{MAX_PAGE}", details={"field": "limit"})
        shards = self.config.keys.shards
        shard_number, after = (0, "") if cursor is None else decode_cursor(cursor, shards)
        if owner is not None and after and not after.startswith(f"{owner}/"):
            raise InvalidInputError("cursor belongs to another listing", details={"field": "cursor"})
        batches: list[BatchSummary] = []
        while shard_number < shards and len(batches) < limit:
            shard = self.config.keys.shard(shard_number)
            index, low, high = _range(shard, owner, after)
            asked = limit - len(batches)
            reply = self._run(ScriptName.LIST, (index,), (shard.base, low, high, asked))
            scanned, last, found = parse_list(reply)
            batches.extend(found)
            if scanned < asked:
                shard_number, after = shard_number + 1, ""
            else:
                after = last
        next_cursor = encode_cursor(shard_number, after) if shard_number < shards else None
        return BatchPage(batches=tuple(batches), next_cursor=next_cursor)

    def live_figures(self, now_ms: int | None, stuck_after_ms: int) -> LiveFigures:
        """gauges.lua per shard (read-only), summed over the shards.

        Overdue: OPEN past the deadline and the late grace (the sweep should have expired them). Stuck:
        closed batches due a re-kick. Parked arrivals: claims waiting for their batch to register, from
        each shard's parked index, counted over at most `MAX_PARKED_BATCHES` batches a shard.
        """
        shards = [
            parse_gauges(
                self._run(
                    ScriptName.GAUGES,
                    (shard.deadlines, shard.active, shard.stuck, shard.parked),
                    (self.config.late_grace_ms, stuck_after_ms, moment(now_ms), MAX_PARKED_BATCHES),
                )
            )
            for shard in (self.config.keys.shard(number) for number in range(self.config.keys.shards))
        ]
        created = [shard.oldest_created_ms for shard in shards if shard.oldest_created_ms is not None]
        return LiveFigures(
            open_batches=sum(shard.open_batches for shard in shards),
            overdue_batches=sum(shard.overdue_batches for shard in shards),
            oldest_created_ms=min(created, default=None),
            finishing_batches=sum(shard.finishing_batches for shard in shards),
            stuck_batches=sum(shard.stuck_batches for shard in shards),
            parked_arrivals=sum(shard.parked_arrivals for shard in shards),
        )


def _range(shard: ShardKeys, owner: str | None, after: str) -> tuple[str, str, str]:
    """The index key and the lexical range after `after` of one shard's listing."""
    if owner is None:
        return shard.active, f"({after}" if after else "-", "+"
    # Owner members are "<owner>/..."; '0' is the character after '/', so "(<owner>0" ends the range.
    return shard.owners, f"({after}" if after else f"[{owner}/", f"({owner}0"
