"""Registering a batch: every check first, then the SQL row, then Redis (the commit point), then its event.

Everything the coordinator's register would refuse, and every bound SQL needs, is checked before the
first write, so a refused registration stores nothing and leaves its batch id free. The SQL row is
written first (idempotent) and Redis second: a crash in between leaves a SQL row nobody sees, which a
retry completes. Only once Redis has answered is `batch.registered` queued, in a second short
transaction that a retry repeats harmlessly (the event id is derived from the batch id).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from coordinator import BatchState, generated_essay_ids, registration_fingerprint
from coordinator.validation import (
    MAX_METADATA_BYTES,
    check_count,
    check_deadline,
    check_essay_ids,
    check_fingerprint,
    check_id,
    check_json,
)
from db.batches import (
    BatchRecord,
    StoredBatch,
    load_batch,
    record_registration,
    record_registration_confirmed,
)
from db.session import unit_of_work
from els.errors import BatchConflictError, ConflictError, InvalidInputError, NotFoundError
from els.ids import public_id, scoped_id
from els.jsontypes import JsonObject
from els.settings import Settings
from essays.spelling import supported_language
from services import quotas
from services.bounds import canonical_metadata, check_plain_id, check_text, owned_id
from services.outages import outage_as_not_ready
from services.runtime import Runtime
from services.webhooks import add_batch_webhook, check_secret, check_url

MAX_ID_CHARS = 64
MAX_COURSE_CODE_CHARS = 64
MAX_LANGUAGE_CHARS = 16


@dataclass(frozen=True)
class BatchRequest:
    """A registration: explicit essay ids or an expected count, and everything about the batch."""

    owner: str
    correlation_id: str
    batch_id: str | None = None
    essay_ids: tuple[str, ...] | None = None
    expected_count: int | None = None
    course_code: str | None = None
    language: str | None = None
    deadline_seconds: int | None = None
    metadata: JsonObject | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None


@dataclass(frozen=True)
class RegisteredBatch:
    """A registered batch; `created` is False for a replay of the same registration."""

    batch_id: str
    owner: str
    essay_ids: tuple[str, ...]
    language: str
    course_code: str | None
    deadline_at: datetime
    state: BatchState
    created: bool


@dataclass(frozen=True)
class _CheckedRegistration:
    """A registration every check has passed, ready to be written: nothing of it is stored yet."""

    record: BatchRecord
    shape: tuple[str, ...] | int
    deadline_seconds: int
    metadata_json: str
    fingerprint: str


@outage_as_not_ready
def register_batch(runtime: Runtime, request: BatchRequest) -> RegisteredBatch:
    """Register a batch (checks, SQL row, then Redis, then its event), or replay the same registration."""
    checked = _check_registration(runtime.settings, request)
    webhook = _checked_webhook(runtime, request)
    shape = checked.shape
    batch_id = checked.record.batch_id
    slots = len(shape) if isinstance(shape, tuple) else shape
    # The owner's quotas are taken before the first write; a refused registration gives them back.
    reserved = quotas.reserve_batch(runtime, request.owner, batch_id, slots, _ms(checked.record.deadline_at))
    try:
        return _register_checked(runtime, request, checked, webhook)
    except ConflictError:
        if reserved:
            quotas.release_batch(runtime, request.owner, batch_id)
        raise


def _register_checked(
    runtime: Runtime, request: BatchRequest, checked: _CheckedRegistration, webhook: tuple[str, str] | None
) -> RegisteredBatch:
    stored = _store_registration(runtime.engine, checked.record, checked.deadline_seconds, webhook)
    kept = stored.record
    batch_id = kept.batch_id
    live = runtime.coordinator.progress(batch_id)
    if live is not None:
        # Committed already: a replay, answered as it stands (even after its deadline has passed), once
        # the replicas hold it (the first try may have failed for want of them, and this read is no step).
        runtime.coordinator.confirm_replicated(batch_id)
        _confirm_registration(runtime.engine, batch_id)
        return _registered(kept, live.state, created=False)
    if stored.state is not BatchState.OPEN:
        # Closed from SQL's side (services.reconcile) or done and gone from Redis: answered as it stands.
        return _registered(kept, stored.state, created=False)
    shape = checked.shape
    result = runtime.coordinator.register(
        batch_id,
        request.owner,
        essay_ids=shape if isinstance(shape, tuple) else None,
        expected_count=shape if isinstance(shape, int) else None,
        # The stored deadline, so a retry after a crash keeps the first request's deadline.
        deadline_ms=_ms(kept.deadline_at),
        fingerprint=checked.fingerprint,
        correlation_id=request.correlation_id,
        metadata_json=checked.metadata_json,
    )
    _confirm_registration(runtime.engine, batch_id)
    if result.created and result.state is BatchState.OPEN and _countdown_fits(runtime.settings, kept):
        # A countdown to the deadline, so the batch expires within moments of it, not at the next sweep.
        runtime.dispatcher.expire_at(batch_id, _ms(kept.deadline_at))
    if result.pending_replayed > 0:
        runtime.dispatcher.follow_registration(batch_id, request.correlation_id)
    return _registered(kept, result.state, created=result.created)


def _check_registration(settings: Settings, request: BatchRequest) -> _CheckedRegistration:
    # Every check the coordinator's register makes, and every bound SQL needs, before anything is written.
    check_id("owner", request.owner)
    public_batch_id = check_plain_id("batch_id", request.batch_id or f"b-{uuid.uuid4().hex}")
    batch_id = scoped_id(request.owner, public_batch_id)
    check_id("correlation_id", request.correlation_id)
    deadline_seconds = request.deadline_seconds or settings.default_deadline_seconds
    if not 1 <= deadline_seconds <= settings.max_deadline_seconds:
        raise InvalidInputError(
            f"deadline_seconds must be within 1..{settings.max_deadline_seconds}",
            details={"field": "deadline_seconds"},
        )
    essay_ids, shape = _slots(settings, public_batch_id, request)
    language = _short_text("language", request.language or settings.default_language, MAX_LANGUAGE_CHARS)
    supported_language(language)  # UnsupportedLanguageError: essays in it could not be analysed
    course_code = request.course_code
    if course_code is not None:
        _short_text("course_code", course_code, MAX_COURSE_CODE_CHARS)
    metadata: JsonObject = request.metadata or {}
    metadata_json = check_json("metadata_json", canonical_metadata(metadata), MAX_METADATA_BYTES)
    fingerprint = check_fingerprint(
        registration_fingerprint(request.owner, shape, deadline_seconds, metadata_json)
    )
    now = datetime.now(UTC)
    deadline_at = now + timedelta(seconds=deadline_seconds)
    now_ms = _ms(now)
    check_deadline(now_ms + deadline_seconds * 1000, now_ms, settings.max_deadline_seconds)
    record = BatchRecord(
        batch_id=batch_id,
        owner=request.owner,
        essay_ids=essay_ids,
        language=language,
        course_code=course_code,
        deadline_at=deadline_at,
        correlation_id=request.correlation_id,
        metadata=metadata,
        registered_at=now,
    )
    return _CheckedRegistration(record, shape, deadline_seconds, metadata_json, fingerprint)


def _slots(
    settings: Settings, batch_id: str, request: BatchRequest
) -> tuple[tuple[str, ...], tuple[str, ...] | int]:
    # The owner-scoped essay ids, from the public batch id and the essay ids as the owner gave them.
    if (request.essay_ids is None) == (request.expected_count is None):
        raise InvalidInputError("give either essay_ids or expected_count", details={"field": "essay_ids"})
    if request.essay_ids is not None:
        public = check_essay_ids(request.essay_ids, settings.max_expected_essays)
        essay_ids = tuple(owned_id(request.owner, "essay_id", essay_id) for essay_id in public)
        return essay_ids, essay_ids
    count = check_count(request.expected_count or 0, settings.max_expected_essays)
    longest = len(f"{batch_id}-{count:03d}")
    if longest > MAX_ID_CHARS:
        room = MAX_ID_CHARS - (longest - len(batch_id))
        raise InvalidInputError(
            f"batch_id is {len(batch_id)} characters, but a batch registered by count names its essays "
            f"<batch_id>-NNN, so for {count} essays it may have at most {room}: shorten it or send "
            "explicit essay_ids",
            details={"field": "batch_id", "limit": room},
        )
    return generated_essay_ids(scoped_id(request.owner, batch_id), count), count


def _short_text(kind: str, value: str, max_chars: int) -> str:
    if not 1 <= len(value) <= max_chars:
        raise InvalidInputError(f"{kind} must be 1 to {max_chars} characters", details={"field": kind})
    return check_text(kind, value)


def _countdown_fits(settings: Settings, record: BatchRecord) -> bool:
    # A message held for its ETA longer than the broker's visibility timeout is redelivered meanwhile;
    # harmless (expiry is once), but batches due later than that are left to the sweep alone.
    return (record.deadline_at - record.registered_at).total_seconds() <= settings.visibility_timeout


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _confirm_registration(engine: Engine, batch_id: str) -> None:
    with unit_of_work(engine) as session:
        record_registration_confirmed(session, batch_id)


def _registered(kept: BatchRecord, state: BatchState, *, created: bool) -> RegisteredBatch:
    return RegisteredBatch(
        batch_id=public_id(kept.batch_id),
        owner=kept.owner,
        essay_ids=tuple(public_id(essay_id) for essay_id in kept.essay_ids),
        language=kept.language,
        course_code=kept.course_code,
        deadline_at=kept.deadline_at,
        state=state,
        created=created,
    )


def _checked_webhook(runtime: Runtime, request: BatchRequest) -> tuple[str, str] | None:
    # A batch's own webhook: both its URL and its secret, checked before anything is written.
    if request.webhook_url is None and request.webhook_secret is None:
        return None
    if request.webhook_url is None or request.webhook_secret is None:
        raise InvalidInputError("a batch's webhook needs both its url and its secret")
    return check_url(runtime, request.webhook_url), check_secret(request.webhook_secret)


def _store_registration(
    engine: Engine, record: BatchRecord, deadline_seconds: int, webhook: tuple[str, str] | None = None
) -> StoredBatch:
    with unit_of_work(engine) as session:
        stored = load_batch(session, record.batch_id)
        if stored is None:
            record_registration(session, record)
            if webhook is not None:
                add_batch_webhook(session, record.batch_id, *webhook, record.registered_at)
            stored = load_batch(session, record.batch_id)
    if stored is None:
        raise NotFoundError(f"batch {public_id(record.batch_id)} vanished while it was registered")
    # A replay is compared with the stored row before Redis is asked, so a conflict changes nothing.
    _check_replay(stored.record, record, deadline_seconds)
    return stored


def _check_replay(stored: BatchRecord, request: BatchRecord, deadline_seconds: int) -> None:
    stored_seconds = round((stored.deadline_at - stored.registered_at).total_seconds())
    same = (
        stored.owner == request.owner
        and stored.essay_ids == request.essay_ids
        and stored.language == request.language
        and stored.course_code == request.course_code
        and stored.metadata == request.metadata
        and stored_seconds == deadline_seconds
    )
    if not same:
        raise BatchConflictError(
            f"batch {public_id(stored.batch_id)} is already registered differently",
            details={"batch_id": public_id(stored.batch_id)},
        )
