"""Purge removes exactly the finished batches older than the cutoff, with all their rows and nothing else."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from db.batches import BatchRecord, load_batch, record_batch_closed, write_report
from db.claims import record_slot_assigned
from db.essays import list_batch_essays, load_essay_text, record_analysis, start_analysis
from db.models import Content, Essay, Failure, OutboxEvent, Submission, UploadBlob
from db.outbox import list_events
from db.purge import PurgeReport, purge_finished
from db.session import unit_of_work
from els.errors import BatchConflictError
from essays.lifecycle import BatchState
from services.relay import relay_outbox
from tests.integration.db.builders import T0, batch_record, count, processed_submission, register, snapshot
from tests.integration.db.publishers import RecordingPublisher

SHARED_TEXT = "A text two batches both received, word for word, from two different classes."


def finished_batch(engine: Engine, text: str, *, done_at: datetime) -> BatchRecord:
    """A one-slot batch filled with `text` from an upload of its own, analysed and DONE at `done_at`."""
    batch = batch_record(slots=1, at=done_at - timedelta(hours=2))
    register(engine, batch)
    upload = f"upload of {batch.batch_id}: {text}".encode()
    sid = processed_submission(engine, batch.batch_id, text, upload=upload, at=batch.registered_at)
    (essay_id,) = batch.essay_ids
    with unit_of_work(engine) as session:
        record_slot_assigned(session, sid, essay_id, at=batch.registered_at)
        record_batch_closed(session, batch.batch_id, BatchState.SEALED, [], done_at)
        start_analysis(session, essay_id, at=done_at)
        record_analysis(session, essay_id, {"words": 14}, at=done_at)
        write_report(session, batch.batch_id, {"analysed": 1}, done_at)
    return batch


def test_purge_removes_only_old_finished_batches_and_what_only_they_used(migrated_engine: Engine) -> None:
    now = T0 + timedelta(days=60)
    old = finished_batch(migrated_engine, SHARED_TEXT, done_at=T0)
    recent = finished_batch(migrated_engine, SHARED_TEXT, done_at=now - timedelta(days=1))
    open_batch = batch_record(slots=2, at=T0)  # registered long ago, never finished
    register(migrated_engine, open_batch)
    processed_submission(migrated_engine, open_batch.batch_id, "An essay still waiting for its batch.")
    # Every event so far is published; the old batch then gets one more that is not.
    assert relay_outbox(migrated_engine, RecordingPublisher(), now=now).published == 9
    with unit_of_work(migrated_engine) as session:
        record_batch_closed(session, open_batch.batch_id, BatchState.EXPIRED, list(open_batch.essay_ids), now)
    before = snapshot(migrated_engine)

    dry = purge_finished(migrated_engine, timedelta(days=30), dry_run=True, now=now)
    assert snapshot(migrated_engine) == before
    real = purge_finished(migrated_engine, timedelta(days=30), now=now)

    # The old batch: 1 batch, 1 essay, 1 submission, its 4 published events, and its upload (whose
    # blob key the report hands to the caller); the text it shares with the recent batch stays.
    expected = PurgeReport(
        batches=1, essays=1, submissions=1, failures=0, events=4, contents=0, dry_run=False, uploads=1
    )
    assert len(real.blob_keys) == 1 and real.blob_keys[0].startswith("uploads/")
    assert replace(real, blob_keys=()) == expected
    assert dry == replace(expected, dry_run=True)
    with unit_of_work(migrated_engine) as session:
        assert load_batch(session, old.batch_id) is None
        assert list_batch_essays(session, old.batch_id) == []
        assert list_events(session, old.batch_id) == []
        recent_stored = load_batch(session, recent.batch_id)
        assert recent_stored is not None and recent_stored.state is BatchState.DONE
        assert load_essay_text(session, recent.essay_ids[0]) == SHARED_TEXT
        assert load_batch(session, open_batch.batch_id) is not None
        assert len(list_events(session, recent.batch_id)) == 4
    assert count(migrated_engine, Essay) == 3
    assert count(migrated_engine, Submission) == 2
    assert count(migrated_engine, Failure) == 0
    assert count(migrated_engine, OutboxEvent) == 4 + 2
    assert purge_finished(migrated_engine, timedelta(days=30), now=now) == PurgeReport(
        0, 0, 0, 0, 0, 0, False
    )


def test_purge_keeps_unpublished_events_of_a_purged_batch(migrated_engine: Engine) -> None:
    old = finished_batch(
        migrated_engine, "An essay whose events were never relayed anywhere at all.", done_at=T0
    )
    report = purge_finished(migrated_engine, timedelta(days=1), now=T0 + timedelta(days=2))
    assert (report.batches, report.events) == (1, 0)
    with unit_of_work(migrated_engine) as session:
        assert len(list_events(session, old.batch_id)) == 4


def test_purge_inside_a_callers_session_commits_with_it(migrated_engine: Engine) -> None:
    finished_batch(migrated_engine, "One more essay, purged through a session the caller owns.", done_at=T0)
    with unit_of_work(migrated_engine) as session:
        report = purge_finished(session, timedelta(days=1), now=T0 + timedelta(days=2))
    assert report.batches == 1
    assert count(migrated_engine, Content) == count(migrated_engine, UploadBlob) == 0  # text and upload went


def test_a_purged_batch_id_is_never_registered_again(migrated_engine: Engine) -> None:
    old = finished_batch(migrated_engine, "An essay of a batch whose id must never come back.", done_at=T0)
    purge_finished(migrated_engine, timedelta(days=1), now=T0 + timedelta(days=2))
    before = snapshot(migrated_engine)
    again = batch_record(slots=1, at=T0 + timedelta(days=3), batch_id=old.batch_id)
    with pytest.raises(BatchConflictError, match="purged"):
        register(migrated_engine, again)
    # Refused before anything was written: its events would reuse the purged batch's event ids.
    assert snapshot(migrated_engine) == before
