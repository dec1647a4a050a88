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

from collections.abc import Sequence

from coordinator import narrow
from coordinator import validation as check
from coordinator.clock import now_ms as local_now_ms
from coordinator.commands import PlainCommands
from coordinator.config import config_from_settings
from coordinator.cursor import decode_slot_cursor, encode_slot_cursor
from coordinator.keys import content_digest
from coordinator.lua import ScriptName
from coordinator.model import (
    BatchGate,
    BatchProgress,
    BatchStatus,
    EndResult,
    FinalizeTicket,
    ReceiveResult,
    RegisterResult,
    SlotPage,
    SlotResult,
)
from coordinator.replies import (
    PROGRESS_FIELDS,
    STATUS_FIELDS,
    RegisterRefusal,
    parse_end,
    parse_gate,
    parse_progress,
    parse_receive,
    parse_register,
    parse_slot,
    parse_slots,
    parse_status,
    parse_ticket,
)
from coordinator.runner import Client, moment
from coordinator.walks import ShardWalks
from els.errors import BatchConflictError, InvalidInputError
from els.settings import Settings
from essays.lifecycle import BatchState

MAX_RECEIPTS = 1000  # submissions received in one call: one request's uploads
MAX_SLOT_PAGE = 1000  # slots.lua refuses more: one HMGET of a page's records stays within Lua's unpack


def generated_essay_ids(batch_id: str, count: int) -> tuple[str, ...]:
    """The essay ids of a batch registered by count: `<batch_id>-001` ... (stable under replay)."""
    return tuple(check.check_id("essay_id", f"{batch_id}-{i:03d}") for i in range(1, count + 1))


class Coordinator(ShardWalks, PlainCommands):
    """Register, claim, fail, expire, close, cancel, finalize, re-kick, status, slots and list: one script
    each. The one-batch steps are here; the shard walks are in coordinator/walks.py, the plain commands
    in coordinator/commands.py."""

    @classmethod
    def from_settings(cls, settings: Settings, client: Client) -> Coordinator:
        """A coordinator for the deployment `settings` describe, on `client`."""
        return cls(client, config_from_settings(settings))

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
            check.check_id("essay_id", f"{batch_id}-{count:03d}")  # the longest generated id must fit
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
                moment(now_ms),
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
            ScriptName.RECEIVE, (self.config.keys.batch(batch_id).hash,), (moment(now_ms), *ids)
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
                moment(now_ms),
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
                moment(now_ms),
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
        reply = self._run(script, self.config.keys.batch(batch_id).layout, (batch_id, owner, moment(now_ms)))
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
            (batch_id, moment(now_ms), lease_ms),
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
            (batch_id, token, moment(now_ms), self.config.retention_ms),
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

        A read for intake's early answer only: `receive` is the step that decides, atomically. A batch
        not OPEN is confirmed on the replicas first (`confirm_replicated`), so intake never refuses an
        upload for a close a failover could still take back.
        """
        check.check_id("batch_id", batch_id)
        key = self.config.keys.batch(batch_id).hash
        gate = parse_gate(self._run(ScriptName.GATE, (key,), (moment(now_ms),)), batch_id)
        if gate is not None and gate.state is not BatchState.OPEN:
            # A refusal is an answer: never given for a close that a failover could still take back.
            self._confirm(key)
        return gate
