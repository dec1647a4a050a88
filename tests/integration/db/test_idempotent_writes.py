"""Every repository write is idempotent: a redelivered handler writes no second row and no second event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db.batches import (
    load_batch,
    load_report,
    record_batch_closed,
    record_registration,
    record_registration_confirmed,
    write_report,
)
from db.claims import record_duplicate, record_excess, record_failure, record_slot_assigned
from db.essays import list_batch_essays, load_essay_text, record_analysis, start_analysis
from db.models import Essay, Failure, OutboxEvent, Submission, UploadBlob
from db.outbox import list_events
from db.session import unit_of_work
from db.submissions import (
    load_submission,
    mark_processing,
    record_first_result,
    record_processed,
    store_submission,
)
from els.events import event_id_for
from els.jsontypes import JsonObject
from essays.lifecycle import BatchState, EssayState, SubmissionState
from tests.integration.db.builders import (
    T0,
    batch_record,
    content_hash,
    count,
    essay_text,
    new_submission,
    processed_submission,
    register,
    snapshot,
)


def twice(engine: Engine, write: Callable[[Session], bool]) -> tuple[bool, bool]:
    """Run `write` in two units of work, as a task and its redelivery would; the second writes nothing."""
    with unit_of_work(engine) as session:
        first = write(session)
    before = snapshot(engine)
    with unit_of_work(engine) as session:
        second = write(session)
    assert snapshot(engine) == before
    return first, second


def test_registration_replayed_stores_one_batch_its_slots_and_one_event(migrated_engine: Engine) -> None:
    batch = batch_record(slots=4)
    assert twice(migrated_engine, lambda s: record_registration(s, batch)) == (True, False)
    assert count(migrated_engine, Essay) == 4
    assert count(migrated_engine, OutboxEvent) == 0  # not until Redis has taken the batch
    assert twice(migrated_engine, lambda s: record_registration_confirmed(s, batch.batch_id)) == (True, False)
    with unit_of_work(migrated_engine) as session:
        stored = load_batch(session, batch.batch_id)
        essays = list_batch_essays(session, batch.batch_id)
        events = list_events(session, batch.batch_id)
    assert stored is not None
    assert stored.record == batch
    assert stored.state is BatchState.OPEN
    assert [essay.essay_id for essay in essays] == list(batch.essay_ids)
    assert {essay.state for essay in essays} == {EssayState.AWAITING}
    assert [event.event_id for event in events] == [str(event_id_for("batch.registered", batch.batch_id))]


def test_upload_replayed_by_id_or_idempotency_key_is_stored_once(migrated_engine: Engine) -> None:
    batch = batch_record()
    register(migrated_engine, batch)
    upload = new_submission(batch.batch_id, b"same bytes", key="upload-1")
    with unit_of_work(migrated_engine) as session:
        first = store_submission(session, upload)
    retry = new_submission(batch.batch_id, b"same bytes", key="upload-1")  # new id, same key
    with unit_of_work(migrated_engine) as session:
        by_id = store_submission(session, upload)
        by_key = store_submission(session, retry)
    assert first.created
    assert (by_id.submission_id, by_id.created) == (upload.submission_id, False)
    assert (by_key.submission_id, by_key.created) == (upload.submission_id, False)
    assert count(migrated_engine, Submission) == 1
    assert count(migrated_engine, UploadBlob) == 1
    with unit_of_work(migrated_engine) as session:
        stored = load_submission(session, upload.submission_id)
    assert stored is not None
    assert (stored.upload_blob_key, stored.state) == (upload.upload.blob_key, SubmissionState.RECEIVED)
    assert by_key.blob_key == upload.upload.blob_key  # the retry's own blob is not the one kept


def test_identical_uploads_share_one_upload_row(migrated_engine: Engine) -> None:
    batch = batch_record()
    register(migrated_engine, batch)
    with unit_of_work(migrated_engine) as session:
        store_submission(session, new_submission(batch.batch_id, b"identical"))
        store_submission(session, new_submission(batch.batch_id, b"identical"))
    assert count(migrated_engine, Submission) == 2
    assert count(migrated_engine, UploadBlob) == 1


def test_processing_steps_replayed_write_once(migrated_engine: Engine) -> None:
    batch = batch_record()
    register(migrated_engine, batch)
    upload = new_submission(batch.batch_id, b"raw upload")
    text = essay_text(1)
    with unit_of_work(migrated_engine) as session:
        store_submission(session, upload)
    sid = upload.submission_id
    assert twice(migrated_engine, lambda s: mark_processing(s, sid, at=T0)) == (True, False)
    assert twice(
        migrated_engine, lambda s: record_processed(s, sid, text, content_hash(text), {"words": 11}, at=T0)
    ) == (True, False)
    with unit_of_work(migrated_engine) as session:
        stored = load_submission(session, sid)
    assert stored is not None
    assert (stored.state, stored.content_hash, stored.metrics) == (
        SubmissionState.PROCESSING,
        content_hash(text),
        {"words": 11},
    )


def test_a_first_result_goes_from_received_to_recorded_once_and_a_late_delivery_writes_nothing(
    migrated_engine: Engine,
) -> None:
    batch = batch_record()
    register(migrated_engine, batch)
    upload = new_submission(batch.batch_id, b"raw upload")
    text = essay_text(1)
    with unit_of_work(migrated_engine) as session:
        store_submission(session, upload)
    sid = upload.submission_id

    def record(session: Session) -> bool:
        return record_first_result(session, sid, text, content_hash(text), {"words": 11}, at=T0)

    assert twice(migrated_engine, record) == (True, False)
    with unit_of_work(migrated_engine) as session:
        record_slot_assigned(session, sid, batch.essay_ids[0], at=T0)
    # A second delivery processed the same upload meanwhile: its result finds the submission READY.
    assert twice(migrated_engine, record) == (False, False)
    with unit_of_work(migrated_engine) as session:
        stored = load_submission(session, sid)
    assert stored is not None and (stored.state, stored.content_hash) == (
        SubmissionState.READY,
        content_hash(text),
    )


def test_claim_outcomes_replayed_write_one_state_change_and_one_event_each(migrated_engine: Engine) -> None:
    batch = batch_record(slots=2)
    register(migrated_engine, batch)
    first, second = batch.essay_ids
    assigned = processed_submission(migrated_engine, batch.batch_id, essay_text(1))
    duplicate = processed_submission(migrated_engine, batch.batch_id, essay_text(1))
    failed = processed_submission(migrated_engine, batch.batch_id, essay_text(2))
    excess = processed_submission(migrated_engine, batch.batch_id, essay_text(3))

    assert twice(migrated_engine, lambda s: record_slot_assigned(s, assigned, first, at=T0)) == (True, False)
    assert twice(migrated_engine, lambda s: record_duplicate(s, duplicate, first, at=T0)) == (True, False)
    assert twice(
        migrated_engine, lambda s: record_failure(s, failed, second, "CONTENT_TOO_SHORT", "3 words", at=T0)
    ) == (True, False)
    assert twice(migrated_engine, lambda s: record_excess(s, excess, at=T0)) == (True, False)

    with unit_of_work(migrated_engine) as session:
        essays = {essay.essay_id: essay for essay in list_batch_essays(session, batch.batch_id)}
        states = {sid: load_submission(session, sid) for sid in (assigned, duplicate, failed, excess)}
        events = list_events(session, batch.batch_id)
        text = load_essay_text(session, first)
    assert (essays[first].state, essays[first].submission_id) == (EssayState.READY, assigned)
    assert essays[first].content_hash == content_hash(essay_text(1))
    assert (essays[second].state, essays[second].error_code) == (EssayState.FAILED, "CONTENT_TOO_SHORT")
    assert {sid: (record.state, record.essay_id) for sid, record in states.items() if record} == {
        assigned: (SubmissionState.READY, first),
        duplicate: (SubmissionState.DUPLICATE, first),
        failed: (SubmissionState.FAILED, second),
        excess: (SubmissionState.EXCESS, None),
    }
    assert text == essay_text(1)
    assert count(migrated_engine, Failure) == 1
    assert sorted(event.event_type for event in events) == [
        "batch.registered",
        "essay.excess_content",
        "essay.slot_assigned",
        "essay.validation_failed",
    ]


def test_closing_analysing_and_reporting_replayed_write_once(migrated_engine: Engine) -> None:
    batch = batch_record(slots=2)
    register(migrated_engine, batch)
    essay_id, missing_id = batch.essay_ids
    sid = processed_submission(migrated_engine, batch.batch_id, essay_text(1))
    with unit_of_work(migrated_engine) as session:
        record_slot_assigned(session, sid, essay_id, at=T0)
    closed_at = T0 + timedelta(days=1)

    assert twice(
        migrated_engine,
        lambda s: record_batch_closed(s, batch.batch_id, BatchState.EXPIRED, [missing_id], closed_at),
    ) == (True, False)
    assert twice(migrated_engine, lambda s: start_analysis(s, essay_id, at=closed_at)) == (True, True)
    assert twice(migrated_engine, lambda s: record_analysis(s, essay_id, {"words": 11}, at=closed_at)) == (
        True,
        False,
    )
    report: JsonObject = {"batch_id": batch.batch_id, "counts": {"analysed": 1, "missing": 1}}
    assert twice(migrated_engine, lambda s: write_report(s, batch.batch_id, report, closed_at)) == (
        True,
        False,
    )
    # Redelivered after the report: the close is recognised as recorded, not a second transition.
    assert twice(
        migrated_engine,
        lambda s: record_batch_closed(s, batch.batch_id, BatchState.EXPIRED, [missing_id], closed_at),
    ) == (False, False)

    with unit_of_work(migrated_engine) as session:
        stored = load_batch(session, batch.batch_id)
        essays = list_batch_essays(session, batch.batch_id)
        events = list_events(session, batch.batch_id)
        stored_report = load_report(session, batch.batch_id)
    assert stored is not None
    assert (stored.state, stored.closed_as, stored.completed_at) == (
        BatchState.DONE,
        BatchState.EXPIRED,
        closed_at,
    )
    assert [(essay.state, essay.analysis) for essay in essays] == [
        (EssayState.ANALYSED, {"words": 11}),
        (EssayState.MISSING, None),
    ]
    assert stored_report == report
    assert sorted(event.event_type for event in events if event.event_type.startswith("batch.")) == [
        "batch.completed",
        "batch.expired",
        "batch.registered",
    ]
    assert count(migrated_engine, OutboxEvent) == 4
