"""A write the lifecycles do not allow raises and leaves every table exactly as it was."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db.batches import BatchRecord, record_batch_closed, record_registration, write_report
from db.claims import record_failure, record_slot_assigned
from db.essays import record_analysis, start_analysis
from db.session import unit_of_work
from db.submissions import mark_processing, record_processed, store_submission
from els.errors import (
    ConflictError,
    ElsError,
    EssayIdTakenError,
    IdempotencyKeyReusedError,
    InvalidInputError,
    InvalidTransitionError,
    NotFoundError,
)
from essays.lifecycle import BatchState
from tests.integration.db.builders import (
    T0,
    batch_record,
    content_hash,
    essay_text,
    new_submission,
    processed_submission,
    register,
    snapshot,
)


def refused(engine: Engine, write: Callable[[Session], object], error: type[ElsError]) -> None:
    """`write` raises `error` and no row of any table changed."""
    before = snapshot(engine)
    with pytest.raises(error), unit_of_work(engine) as session:
        write(session)
    assert snapshot(engine) == before


@pytest.fixture
def batch(migrated_engine: Engine) -> BatchRecord:
    """A registered batch of two slots."""
    record = batch_record(slots=2)
    register(migrated_engine, record)
    return record


def test_a_settled_submission_cannot_take_a_slot(migrated_engine: Engine, batch: BatchRecord) -> None:
    sid = processed_submission(migrated_engine, batch.batch_id, essay_text(1))
    with unit_of_work(migrated_engine) as session:
        record_failure(session, sid, None, "CONTENT_TOO_LONG", "too long", at=T0)
    refused(
        migrated_engine, lambda s: record_slot_assigned(s, sid, batch.essay_ids[0]), InvalidTransitionError
    )


def test_a_filled_slot_cannot_take_a_second_submission(migrated_engine: Engine, batch: BatchRecord) -> None:
    first = processed_submission(migrated_engine, batch.batch_id, essay_text(1))
    second = processed_submission(migrated_engine, batch.batch_id, essay_text(2))
    with unit_of_work(migrated_engine) as session:
        record_slot_assigned(session, first, batch.essay_ids[0], at=T0)
    refused(migrated_engine, lambda s: record_slot_assigned(s, second, batch.essay_ids[0]), ConflictError)


def test_the_same_content_cannot_fill_two_slots(migrated_engine: Engine, batch: BatchRecord) -> None:
    first = processed_submission(migrated_engine, batch.batch_id, essay_text(1))
    again = processed_submission(migrated_engine, batch.batch_id, essay_text(1))
    with unit_of_work(migrated_engine) as session:
        record_slot_assigned(session, first, batch.essay_ids[0], at=T0)
    refused(migrated_engine, lambda s: record_slot_assigned(s, again, batch.essay_ids[1]), ConflictError)


def test_a_slot_of_another_batch_is_not_found(migrated_engine: Engine, batch: BatchRecord) -> None:
    other = batch_record(slots=1)
    register(migrated_engine, other)
    sid = processed_submission(migrated_engine, batch.batch_id, essay_text(1))
    refused(migrated_engine, lambda s: record_slot_assigned(s, sid, other.essay_ids[0]), NotFoundError)


def test_an_unprocessed_submission_takes_no_result_and_no_slot(
    migrated_engine: Engine, batch: BatchRecord
) -> None:
    upload = new_submission(batch.batch_id, b"raw")
    with unit_of_work(migrated_engine) as session:
        store_submission(session, upload)
    sid, text = upload.submission_id, essay_text(1)
    refused(
        migrated_engine,
        lambda s: record_processed(s, sid, text, content_hash(text), {}),
        InvalidTransitionError,
    )
    refused(migrated_engine, lambda s: record_slot_assigned(s, sid, batch.essay_ids[0]), ConflictError)


def test_a_finished_submission_does_not_go_back_to_processing(
    migrated_engine: Engine, batch: BatchRecord
) -> None:
    sid = processed_submission(migrated_engine, batch.batch_id, essay_text(1))
    with unit_of_work(migrated_engine) as session:
        record_slot_assigned(session, sid, batch.essay_ids[0], at=T0)
    refused(migrated_engine, lambda s: mark_processing(s, sid), InvalidTransitionError)


def test_analysis_needs_a_filled_slot_and_a_start(migrated_engine: Engine, batch: BatchRecord) -> None:
    refused(migrated_engine, lambda s: start_analysis(s, batch.essay_ids[0]), InvalidTransitionError)
    sid = processed_submission(migrated_engine, batch.batch_id, essay_text(1))
    with unit_of_work(migrated_engine) as session:
        record_slot_assigned(session, sid, batch.essay_ids[0], at=T0)
    refused(migrated_engine, lambda s: record_analysis(s, batch.essay_ids[0], {}), InvalidTransitionError)


def test_a_batch_closes_one_way_only(migrated_engine: Engine, batch: BatchRecord) -> None:
    missing = list(batch.essay_ids)
    with unit_of_work(migrated_engine) as session:
        record_batch_closed(session, batch.batch_id, BatchState.EXPIRED, missing, T0)
    refused(
        migrated_engine,
        lambda s: record_batch_closed(s, batch.batch_id, BatchState.SEALED, [], T0),
        InvalidTransitionError,
    )


def test_a_sealed_batch_has_nothing_missing(migrated_engine: Engine, batch: BatchRecord) -> None:
    refused(
        migrated_engine,
        lambda s: record_batch_closed(s, batch.batch_id, BatchState.SEALED, [batch.essay_ids[0]], T0),
        InvalidInputError,
    )


def test_a_filled_slot_cannot_be_reported_missing(migrated_engine: Engine, batch: BatchRecord) -> None:
    sid = processed_submission(migrated_engine, batch.batch_id, essay_text(1))
    with unit_of_work(migrated_engine) as session:
        record_slot_assigned(session, sid, batch.essay_ids[0], at=T0)
    refused(
        migrated_engine,
        lambda s: record_batch_closed(s, batch.batch_id, BatchState.EXPIRED, list(batch.essay_ids), T0),
        InvalidTransitionError,
    )


def test_an_open_batch_takes_no_report(migrated_engine: Engine, batch: BatchRecord) -> None:
    refused(
        migrated_engine, lambda s: write_report(s, batch.batch_id, {"done": True}, T0), InvalidTransitionError
    )


def test_a_batch_registered_again_differently_is_a_conflict(
    migrated_engine: Engine, batch: BatchRecord
) -> None:
    changed = replace(batch, essay_ids=(*batch.essay_ids, "one-more"))
    refused(migrated_engine, lambda s: record_registration(s, changed), ConflictError)


def test_essay_ids_of_another_batch_cannot_be_registered(migrated_engine: Engine, batch: BatchRecord) -> None:
    thief = replace(batch_record(slots=1), essay_ids=(batch.essay_ids[0],))
    refused(migrated_engine, lambda s: record_registration(s, thief), EssayIdTakenError)


def test_an_idempotency_key_reused_for_other_bytes_is_refused_and_stores_nothing(
    migrated_engine: Engine, batch: BatchRecord
) -> None:
    with unit_of_work(migrated_engine) as session:
        store_submission(session, new_submission(batch.batch_id, b"the first upload", key="k#0"))
    other = new_submission(batch.batch_id, b"a different upload", key="k#0")
    refused(migrated_engine, lambda s: store_submission(s, other), IdempotencyKeyReusedError)


def test_uploads_to_an_unknown_batch_are_not_stored(migrated_engine: Engine) -> None:
    refused(
        migrated_engine, lambda s: store_submission(s, new_submission("no-such-batch", b"x")), NotFoundError
    )
