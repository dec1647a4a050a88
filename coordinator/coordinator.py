"""`Coordinator`: live batch state in Redis, one method per Lua script, on a synchronous redis-py client.

Each script method validates its input before any round trip, builds the script's KEYS and ARGV, runs
the registered script and hands the raw reply to coordinator/replies.py, the one place replies are
parsed. Every rule lives in the Lua scripts (coordinator/scripts/).

Every script judges time by the Redis server's clock (`TIME`), never the caller's: a worker whose clock
runs ahead can neither close a batch before its deadline nor take over a live finalizer. The `now_ms`
of each method is None for that (what every service passes); a test pins a moment with an int.

There is no asyncio variant: the HTTP API calls this same Coordinator from FastAPI's thread pool
(`anyio.to_thread.run_sync`), so one client type and one code path serve workers, CLI and API.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import TypeAlias

import redis
from redis.cluster import RedisCluster
from redis.commands.core import Script
from redis.exceptions import LockNotOwnedError
from redis.lock import Lock

from coordinator import narrow
from coordinator import validation as check
from coordinator.clock import now_ms as local_now_ms
from coordinator.config import CoordinatorConfig, config_from_settings
from coordinator.cursor import decode_cursor, decode_slot_cursor, encode_cursor, encode_slot_cursor
from coordinator.eviction import check_eviction_policy, evicting_policy
from coordinator.keys import ShardKeys, content_digest
from coordinator.lua import ScriptName, script_source
from coordinator.model import (
    BatchGate,
    BatchPage,
    BatchProgress,
    BatchStatus,
    BatchSummary,
    EndResult,
    ExpiredBatch,
    FinalizeTicket,
    LiveFigures,
    ReceiveResult,
    RegisterResult,
    SlotPage,
    SlotResult,
    StuckBatch,
)
from coordinator.replies import (
    PROGRESS_FIELDS,
    STATUS_FIELDS,
    RegisterRefusal,
    parse_end,
    parse_expired,
    parse_gate,
    parse_gauges,
    parse_list,
    parse_progress,
    parse_receive,
    parse_register,
    parse_rekick,
    parse_slot,
    parse_slots,
    parse_status,
    parse_ticket,
)
from els.errors import BatchConflictError, InvalidInputError
from els.settings import Settings

Client: TypeAlias = redis.Redis | RedisCluster

MAX_PAGE = 1000
MAX_RECEIPTS = 1000  # submissions received in one call: one request's uploads
MAX_SLOT_PAGE = 1000  # slots.lua refuses more: one HMGET of a page's records stays within Lua's unpack
MAX_PARKED_BATCHES = 1000  # per shard, per gauges call: one HLEN each


def _moment(now_ms: int | None) -> str | int:
    # A moment in a script's ARGV: '' is the server's clock (TIME); an int pins one (tests).
    return "" if now_ms is None else now_ms


def generated_essay_ids(batch_id: str, count: int) -> tuple[str, ...]:
    """The essay ids of a batch registered by count: `<batch_id>-001` ... (stable under replay)."""
    return tuple(check.check_id("essay_id", f"{batch_id}-{i:03d}") for i in range(1, count + 1))


class Coordinator:
    """Register, claim, fail, expire, close, cancel, finalize, re-kick, status, slots and list: one script
    each."""

    def __init__(self, client: Client, config: CoordinatorConfig) -> None:
        self.client = client
        self.config = config
        # register_script re-sends the source whenever the server answers NOSCRIPT.
        self._scripts: dict[ScriptName, Script] = {
            name: client.register_script(script_source(name)) for name in ScriptName
        }

    @classmethod
    def from_settings(cls, settings: Settings, client: Client) -> Coordinator:
        """A coordinator for the deployment `settings` describe, on `client`."""
        return cls(client, config_from_settings(settings))

    def _run(self, script: ScriptName, keys: Sequence[str], args: Sequence[str | int]) -> object:
        reply: object = self._scripts[script](keys=keys, args=args)
        return reply

    # -- one batch ------------------------------------------------------------------------------------

    def register(
        self,
        batch_id: str,
        owner: str,
        *,
        essay_ids: Sequence[str] | None = None,
        expected_count: int | None = None,
        deadline_ms: int,
        fingerprint: str,
        correlation_id: str,
        metadata_json: str = "{}",
        now_ms: int | None = None,
    ) -> RegisterResult:
        """register.lua: create a batch OPEN with its slots (explicit ids or a count), or replay it.

        Raises BatchConflictError for the same id with another fingerprint. Essay ids are not claimed in
        Redis: SQL keeps them unique (it is written first), and a batch by count stores no field per slot.
        """
        check.check_id("batch_id", batch_id)
        check.check_id("owner", owner)
        check.check_id("correlation_id", correlation_id)
        check.check_fingerprint(fingerprint)
        check.check_json("metadata_json", metadata_json, check.MAX_METADATA_BYTES)
        check.check_deadline(
            deadline_ms, local_now_ms() if now_ms is None else now_ms, self.config.max_deadline_seconds
        )
        if (essay_ids is None) == (expected_count is None):
            raise InvalidInputError("give either essay_ids or expected_count", details={"field": "essay_ids"})
        limit = self.config.max_expected_essays
        if essay_ids is not None:
            ids = check.check_essay_ids(essay_ids, limit)
            count = len(ids)
        else:
            count = check.check_count(expected_count or 0, limit)
            generated_essay_ids(batch_id, count)  # InvalidInputError when the ids would be too long
            ids = ()
        keys = self.config.keys.batch(batch_id)
        shard = keys.shard
        reply = self._run(
            ScriptName.REGISTER,
            (*keys.layout, shard.active, shard.owners),
            (
                batch_id,
                owner,
                fingerprint,
                deadline_ms,
                _moment(now_ms),
                self.config.retention_ms,  # the backstop TTL is the deadline, then this
                correlation_id,
                metadata_json,
                count,
                *ids,
            ),
        )
        result = parse_register(reply, batch_id)
        if isinstance(result, RegisterRefusal):
            raise BatchConflictError(
                f"batch {batch_id} exists and was registered with a different request",
                details={"batch_id": batch_id, "state": result.state},
            )
        return result

    def receive(
        self, batch_id: str, submission_ids: Sequence[str], now_ms: int | None = None
    ) -> ReceiveResult:
        """receive.lua: record that one request's uploads reached their OPEN batch before the deadline,
        all at one instant or none, or why not.

        A deadline is judged here, at receipt: a received upload takes the next slot while the batch is
        OPEN, however late its processing finishes, and the sweep holds the batch's expiry for it (within
        the late grace). A repeat for the same submissions changes nothing and answers as the first call.
        """
        check.check_id("batch_id", batch_id)
        ids = check.check_submission_ids(submission_ids, MAX_RECEIPTS)
        reply = self._run(
            ScriptName.RECEIVE, (self.config.keys.batch(batch_id).hash,), (_moment(now_ms), *ids)
        )
        return parse_receive(reply, batch_id)

    def claim(
        self,
        batch_id: str,
        submission_id: str,
        content_hash: str,
        now_ms: int | None = None,
    ) -> SlotResult:
        """claim.lua: the next slot for a processed submission, or why not (duplicate, excess, pending).

        Content is matched by a 128-bit digest of `content_hash` (`content_digest`), which keeps each
        claimed slot's fields short; the hash itself stays with the caller (SQL).
        """
        check.check_id("batch_id", batch_id)
        check.check_id("submission_id", submission_id)
        check.check_content_hash(content_hash)
        reply = self._run(
            ScriptName.CLAIM,
            self.config.keys.batch(batch_id).layout,
            (
                batch_id,
                submission_id,
                content_digest(content_hash),
                _moment(now_ms),
                self.config.pending_ttl_ms,
                self.config.pending_cap,
            ),
        )
        return parse_slot(reply, batch_id, submission_id)

    def fail(
        self, batch_id: str, submission_id: str, code: str, detail: str, now_ms: int | None = None
    ) -> SlotResult:
        """fail.lua: record a final failure; it consumes the next slot so the batch still completes."""
        check.check_id("batch_id", batch_id)
        check.check_id("submission_id", submission_id)
        check.check_id("code", code)
        reply = self._run(
            ScriptName.FAIL,
            self.config.keys.batch(batch_id).layout,
            (
                batch_id,
                submission_id,
                code,
                check.clip_detail(detail),
                _moment(now_ms),
                self.config.pending_ttl_ms,
                self.config.pending_cap,
            ),
        )
        return parse_slot(reply, batch_id, submission_id)

    def close(self, batch_id: str, owner: str, now_ms: int | None = None) -> EndResult:
        """close.lua: the owner's OPEN batch -> CLOSED now, with its missing slots; replays answer alike."""
        return self._end(ScriptName.CLOSE, "closed", batch_id, owner, now_ms)

    def cancel(self, batch_id: str, owner: str, now_ms: int | None = None) -> EndResult:
        """cancel.lua: the owner's OPEN batch -> CANCELLED (no report); replays answer alike."""
        return self._end(ScriptName.CANCEL, "cancelled", batch_id, owner, now_ms)

    def _end(self, script: ScriptName, word: str, batch_id: str, owner: str, now_ms: int | None) -> EndResult:
        check.check_id("batch_id", batch_id)
        check.check_id("owner", owner)
        reply = self._run(script, self.config.keys.batch(batch_id).layout, (batch_id, owner, _moment(now_ms)))
        return parse_end(reply, batch_id, word)

    def begin_finalize(self, batch_id: str, now_ms: int | None, lease_ms: int) -> FinalizeTicket:
        """begin_finalize.lua: SEALED|EXPIRED -> FINALIZING for one caller, or a takeover after the lease
        (judged by the server's clock, so a caller whose clock runs ahead cannot cut a live lease short)."""
        check.check_id("batch_id", batch_id)
        check.check_positive("lease_ms", lease_ms)
        keys = self.config.keys.batch(batch_id)
        reply = self._run(
            ScriptName.BEGIN_FINALIZE,
            (keys.hash, keys.shard.stuck, keys.shard.tokens),
            (batch_id, _moment(now_ms), lease_ms),
        )
        return parse_ticket(reply, batch_id)

    def complete_finalize(self, batch_id: str, token: str, now_ms: int | None = None) -> bool:
        """complete_finalize.lua: FINALIZING -> DONE if `token` is current; True only for that call."""
        check.check_id("batch_id", batch_id)
        check.check_id("token", token)
        keys = self.config.keys.batch(batch_id)
        reply = self._run(
            ScriptName.COMPLETE_FINALIZE,
            (*keys.layout, keys.shard.active, keys.shard.owners),
            (batch_id, token, _moment(now_ms), self.config.retention_ms),
        )
        return narrow.flag(reply)

    def status(self, batch_id: str) -> BatchStatus | None:
        """status.lua: everything live about a batch in one round trip, or None."""
        check.check_id("batch_id", batch_id)
        reply = self._run(ScriptName.STATUS, (self.config.keys.batch(batch_id).hash,), STATUS_FIELDS)
        return parse_status(reply, batch_id)

    def slot_page(self, batch_id: str, cursor: str | None, limit: int) -> SlotPage | None:
        """slots.lua: a page of at most `limit` slots in slot order, from `cursor` (None: the first slot),
        or None when the batch does not exist. Pass the page's `next_cursor` to continue.

        Reads only the page's slots, never the whole batch; the cursor and limit are checked first.
        """
        check.check_id("batch_id", batch_id)
        if not 1 <= limit <= MAX_SLOT_PAGE:
            raise InvalidInputError(f"limit must be within 1..{MAX_SLOT_PAGE}", details={"field": "limit"})
        first = 0 if cursor is None else decode_slot_cursor(cursor, self.config.max_expected_essays)
        reply = self._run(ScriptName.SLOTS, (self.config.keys.batch(batch_id).hash,), (first, limit))
        return parse_slots(reply, batch_id, first, encode_slot_cursor)

    def progress(self, batch_id: str) -> BatchProgress | None:
        """State, counters and times in one HMGET (O(1) whatever the batch's size), or None: for pollers
        and the status answer, which need no slot. `status` reads every slot; `slot_page` reads a page."""
        check.check_id("batch_id", batch_id)
        reply: object = self.client.hmget(self.config.keys.batch(batch_id).hash, list(PROGRESS_FIELDS))
        return parse_progress(reply, batch_id)

    def start_attempt(self, batch_id: str, submission_id: str) -> int | None:
        """attempt.lua: count one more start of the submission's processing; the count so far, 0 when its
        outcome is recorded already, None when the batch is not in Redis."""
        check.check_id("batch_id", batch_id)
        check.check_id("submission_id", submission_id)
        reply = narrow.integer(
            self._run(ScriptName.ATTEMPT, (self.config.keys.batch(batch_id).hash,), (submission_id,))
        )
        return None if reply < 0 else reply

    def gate(self, batch_id: str, now_ms: int | None = None) -> BatchGate | None:
        """gate.lua: owner, state and deadline in one HMGET (O(1) whatever the batch's size), or None.

        A read for intake's early answer only: `receive` is the step that decides, atomically.
        """
        check.check_id("batch_id", batch_id)
        reply = self._run(ScriptName.GATE, (self.config.keys.batch(batch_id).hash,), (_moment(now_ms),))
        return parse_gate(reply, batch_id)

    # -- walks over the shards: bounded by the caller's limit, never by the number of batches --------

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
        when many batches share a deadline; the walk calls again until `limit` or the shard is done.
        """
        check.check_positive("limit", limit)
        grace_ms, per_call = self.config.late_grace_ms, self.config.expire_batches_per_call
        expired: list[ExpiredBatch] = []
        for shard in self._rotation(now_ms):
            held = 0  # held entries stay first among the shard's due entries: later calls skip them
            while len(expired) < limit:
                asked = min(limit - len(expired), per_call)
                reply = self._run(
                    ScriptName.EXPIRE,
                    (shard.deadlines, shard.stuck),
                    (shard.base, _moment(now_ms), asked, grace_ms, held),
                )
                scanned, newly_held, batches = parse_expired(reply)
                expired.extend(batches)
                held += newly_held
                if scanned < asked:
                    break
            if len(expired) >= limit:
                break
        return expired

    def rekick_stuck(self, now_ms: int | None, older_than_ms: int, limit: int) -> list[StuckBatch]:
        """rekick.lua per shard: batches sealed, expired or finalizing for over `older_than_ms`."""
        check.check_positive("limit", limit)
        if older_than_ms < 0:
            raise InvalidInputError("older_than_ms must not be negative", details={"field": "older_than_ms"})
        stuck: list[StuckBatch] = []
        for shard in self._rotation(now_ms):
            while len(stuck) < limit:
                asked = limit - len(stuck)
                reply = self._run(
                    ScriptName.REKICK, (shard.stuck,), (shard.base, _moment(now_ms), older_than_ms, asked)
                )
                scanned, batches = parse_rekick(reply)
                stuck.extend(batches)
                if scanned < asked:
                    break
            if len(stuck) >= limit:
                break
        return stuck

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
                    (self.config.late_grace_ms, stuck_after_ms, _moment(now_ms), MAX_PARKED_BATCHES),
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

    # -- small coordination helpers, so nothing outside coordinator/ touches the client -----------------

    def request_once(self, name: str, ttl_ms: int) -> bool:
        """`SET <prefix>:<name> 1 NX PX ttl_ms`: True for the one caller that set it within the ttl."""
        check.check_id("name", name)
        check.check_positive("ttl_ms", ttl_ms)
        reply: object = self.client.set(f"{self.config.keys.prefix}:{name}", b"1", nx=True, px=ttl_ms)
        return reply is True

    def record_sweep(self, now_ms: int, ttl_ms: int) -> None:
        """`SET <prefix>:sweep-heartbeat <now_ms> PX ttl_ms`: a sweep ran at now_ms (beat is ticking)."""
        check.check_positive("ttl_ms", ttl_ms)
        self.client.set(f"{self.config.keys.prefix}:sweep-heartbeat", str(now_ms), px=ttl_ms)

    def last_sweep_ms(self) -> int | None:
        """When a sweep last ran (epoch ms), from its heartbeat; None when none ran within the ttl."""
        reply: object = self.client.get(f"{self.config.keys.prefix}:sweep-heartbeat")
        stamp = narrow.optional_text(reply)
        return None if stamp is None else narrow.integer(stamp)

    @contextmanager
    def sweep_lock(self, timeout_seconds: float) -> Iterator[bool]:
        """The non-blocking lock `<prefix>:sweep-lock`: yields whether this caller holds it.

        Released on exit. The lock only saves duplicate work (every sweep step is safe to run twice), so
        a lock that expired or was taken over meanwhile is not an error.
        """
        lock = Lock(self.client, f"{self.config.keys.prefix}:sweep-lock", timeout=timeout_seconds)
        acquired: bool = lock.acquire(blocking=False)
        try:
            yield acquired
        finally:
            if acquired:
                with suppress(LockNotOwnedError):
                    lock.release()

    def take_completion_turn(self, batch_id: str, hold_ms: int) -> bool:
        """Whether this caller may dispatch the batch's analyses now (one SET NX PX, atomic).

        A sealed batch is told "closed" by every replayed claim, and each would queue the whole
        batch's analyses again; the first caller in each `hold_ms` takes the turn, the rest stand aside.
        A lost dispatch is re-kicked by the sweep after `stuck_after`, by when the turn has lapsed.
        """
        check.check_id("batch_id", batch_id)
        reply: object = self.client.set(
            self.config.keys.batch(batch_id).completion_turn, b"1", nx=True, px=max(hold_ms, 1)
        )
        return reply is True

    def knows(self, batch_id: str) -> bool:
        """Whether Redis holds the batch at all (one EXISTS): a read, never a step of the lifecycle."""
        check.check_id("batch_id", batch_id)
        reply: object = self.client.exists(self.config.keys.batch(batch_id).hash)
        return reply == 1

    def ping(self) -> None:
        """One PING; raises redis-py's errors when Redis does not answer."""
        self.client.ping()

    def eviction_warning(self) -> str | None:
        """A warning when Redis may evict the coordinator's keys (or will not say), None on noeviction."""
        return check_eviction_policy(self.client)

    def evicting_policy(self) -> str | None:
        """A warning when Redis is known to evict (a policy other than noeviction); None when it won't say."""
        return evicting_policy(self.client)


def _range(shard: ShardKeys, owner: str | None, after: str) -> tuple[str, str, str]:
    """The index key and the lexical range after `after` of one shard's listing."""
    if owner is None:
        return shard.active, f"({after}" if after else "-", "+"
    # Owner members are "<owner>/..."; '0' is the character after '/', so "(<owner>0" ends the range.
    return shard.owners, f"({after}" if after else f"[{owner}/", f"({owner}0"
