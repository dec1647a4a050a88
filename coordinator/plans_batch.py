"""Plans of the operations on one batch: validate, build one script call, parse its reply.

Every plan validates its input before yielding anything, so a bad id never reaches Redis.
"""

from __future__ import annotations

from collections.abc import Sequence

from coordinator import narrow
from coordinator import validation as check
from coordinator.calls import Done, Plan, ScriptCall, ScriptName
from coordinator.config import CoordinatorConfig
from coordinator.keys import active_member, owner_member
from coordinator.model import BatchStatus, FinalizeTicket, RegisterResult, SlotResult
from coordinator.replies import (
    STATUS_FIELDS,
    RegisterRefusal,
    parse_register,
    parse_slot,
    parse_status,
    parse_ticket,
)
from els.errors import BatchConflictError, EssayIdTakenError, InvalidInputError


def generated_essay_ids(batch_id: str, count: int) -> tuple[str, ...]:
    """The essay ids of a batch registered by count: `<batch_id>-001` ... (stable under replay)."""
    return tuple(check.check_id("essay_id", f"{batch_id}-{i:03d}") for i in range(1, count + 1))


def register(
    config: CoordinatorConfig,
    batch_id: str,
    owner: str,
    *,
    essay_ids: Sequence[str] | None,
    expected_count: int | None,
    deadline_ms: int,
    fingerprint: str,
    correlation_id: str,
    metadata_json: str,
    now_ms: int,
) -> Plan[RegisterResult]:
    """Create the batch (or replay its registration) and replay what was parked for it."""
    check.check_id("batch_id", batch_id)
    check.check_id("owner", owner)
    check.check_id("correlation_id", correlation_id)
    check.check_fingerprint(fingerprint)
    check.check_json("metadata_json", metadata_json, check.MAX_METADATA_BYTES)
    check.check_deadline(deadline_ms, now_ms, config.max_deadline_seconds)
    if (essay_ids is None) == (expected_count is None):
        raise InvalidInputError("give either essay_ids or expected_count", details={"field": "essay_ids"})
    if essay_ids is not None:
        ids = check.check_essay_ids(essay_ids, config.max_expected_essays)
    else:
        ids = generated_essay_ids(
            batch_id, check.check_count(expected_count or 0, config.max_expected_essays)
        )
    keys = config.keys.batch(batch_id)
    shard = keys.shard
    backstop_ms = deadline_ms - now_ms + config.retention_ms
    reply = yield ScriptCall(
        ScriptName.REGISTER,
        (*keys.layout, shard.active, shard.owners, *(shard.essay(essay_id) for essay_id in ids)),
        (
            batch_id,
            owner,
            fingerprint,
            deadline_ms,
            now_ms,
            backstop_ms,
            correlation_id,
            metadata_json,
            active_member(batch_id, now_ms),
            owner_member(owner, batch_id, now_ms),
            shard.base,
            *ids,
        ),
    )
    result = parse_register(reply, batch_id)
    if isinstance(result, RegisterRefusal):
        if result.essay_id is not None:
            raise EssayIdTakenError(
                f"essay id {result.essay_id} is already registered in another live batch",
                details={"essay_id": result.essay_id, "batch_id": batch_id},
            )
        raise BatchConflictError(
            f"batch {batch_id} exists and was registered with a different request",
            details={"batch_id": batch_id, "state": result.state},
        )
    yield Done(result)


def claim(
    config: CoordinatorConfig,
    batch_id: str,
    submission_id: str,
    content_hash: str,
    payload_json: str,
    *,
    now_ms: int,
) -> Plan[SlotResult]:
    """Give a processed submission the next slot (or its recorded, duplicate, excess or pending outcome).

    `payload_json` is opaque to the coordinator (size-checked only): the caller's small JSON string,
    stored with the assignment and returned in the slot's record.
    """
    check.check_id("batch_id", batch_id)
    check.check_id("submission_id", submission_id)
    check.check_content_hash(content_hash)
    # Opaque to the coordinator: stored with the assignment and handed back as given.
    check.check_size("payload_json", payload_json, check.MAX_PAYLOAD_BYTES)
    reply = yield ScriptCall(
        ScriptName.CLAIM,
        config.keys.batch(batch_id).layout,
        (
            batch_id,
            submission_id,
            content_hash,
            payload_json,
            now_ms,
            config.pending_ttl_ms,
            config.pending_cap,
        ),
    )
    yield Done(parse_slot(reply, batch_id, submission_id))


def fail(
    config: CoordinatorConfig, batch_id: str, submission_id: str, code: str, detail: str, *, now_ms: int
) -> Plan[SlotResult]:
    """Record a submission's final failure; it consumes the next slot like an assignment."""
    check.check_id("batch_id", batch_id)
    check.check_id("submission_id", submission_id)
    check.check_id("code", code)
    reply = yield ScriptCall(
        ScriptName.FAIL,
        config.keys.batch(batch_id).layout,
        (
            batch_id,
            submission_id,
            code,
            check.clip_detail(detail),
            now_ms,
            config.pending_ttl_ms,
            config.pending_cap,
        ),
    )
    yield Done(parse_slot(reply, batch_id, submission_id))


def begin_finalize(
    config: CoordinatorConfig, batch_id: str, now_ms: int, lease_ms: int
) -> Plan[FinalizeTicket]:
    """SEALED|EXPIRED -> FINALIZING for one caller, or a takeover once the holder's lease ran out."""
    check.check_id("batch_id", batch_id)
    check.check_positive("lease_ms", lease_ms)
    keys = config.keys.batch(batch_id)
    reply = yield ScriptCall(
        ScriptName.BEGIN_FINALIZE,
        (keys.hash, keys.shard.stuck, keys.shard.tokens),
        (batch_id, now_ms, lease_ms),
    )
    yield Done(parse_ticket(reply, batch_id))


def complete_finalize(config: CoordinatorConfig, batch_id: str, token: str, now_ms: int) -> Plan[bool]:
    """FINALIZING -> DONE for the current token; the batch's keys then expire after the retention."""
    check.check_id("batch_id", batch_id)
    check.check_id("token", token)
    keys = config.keys.batch(batch_id)
    reply = yield ScriptCall(
        ScriptName.COMPLETE_FINALIZE,
        (*keys.layout, keys.shard.active, keys.shard.owners),
        (batch_id, token, now_ms, config.retention_ms, keys.shard.base),
    )
    yield Done(narrow.flag(reply))


def status(config: CoordinatorConfig, batch_id: str) -> Plan[BatchStatus | None]:
    """Everything live about one batch in one round trip, or None when it does not exist."""
    check.check_id("batch_id", batch_id)
    keys = config.keys.batch(batch_id)
    reply = yield ScriptCall(ScriptName.STATUS, (keys.hash,), STATUS_FIELDS)
    yield Done(parse_status(reply, batch_id))
