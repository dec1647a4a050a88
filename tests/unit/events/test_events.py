"""Event contracts: stable ids, one routing key per type, envelopes that round-trip."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from els.events import (
    EVENT_MODELS,
    BatchCompleted,
    BatchCompletedData,
    EssaySlotAssigned,
    EssaySlotAssignedData,
    Event,
    event_id_for,
    event_type_of,
    export_schemas,
    parse_event,
)

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def slot_assigned(essay_id: str = "e-1", submission_id: str = "s-1") -> EssaySlotAssigned:
    data = EssaySlotAssignedData(
        batch_id="b-1",
        essay_id=essay_id,
        submission_id=submission_id,
        filename="a.txt",
        content_hash="ab" * 32,
    )
    return EssaySlotAssigned.create(data, correlation_id="c-1", occurred_at=AT)


def test_the_same_fact_always_gets_the_same_event_id() -> None:
    first = slot_assigned()
    again = EssaySlotAssigned.create(first.data, correlation_id="another", occurred_at=datetime.now(UTC))
    assert first.event_id == again.event_id == event_id_for("essay.slot_assigned", "b-1/e-1/s-1")
    assert first.event_id.version == 5


def test_the_same_explicit_essay_id_in_another_batch_is_another_fact() -> None:
    first = slot_assigned()
    other = EssaySlotAssigned.create(
        first.data.model_copy(update={"batch_id": "b-2"}), correlation_id="c-1", occurred_at=AT
    )
    assert other.event_id != first.event_id


def test_different_facts_get_different_event_ids() -> None:
    assert slot_assigned("e-1").event_id != slot_assigned("e-2").event_id
    assert event_id_for("batch.sealed", "b-1") != event_id_for("batch.expired", "b-1")


def test_event_ids_do_not_change_between_releases() -> None:
    # Consumers de-duplicate by these ids: a change of namespace or key format breaks them all.
    assert event_id_for("batch.completed", "b-1") == uuid.UUID("a44c3cb8-5892-52fb-ac6c-43a8df2c5321")


def test_an_envelope_round_trips_through_json_into_its_own_type() -> None:
    report = {"counts": {"analysed": 2}, "essays": [{"essay_id": "e-1", "words": 120}]}
    event = BatchCompleted.create(
        BatchCompletedData(batch_id="b-1", completed_at=AT, report=report), correlation_id="c", occurred_at=AT
    )
    parsed = parse_event(event.model_dump_json())
    assert isinstance(parsed, BatchCompleted)
    assert parsed == event
    assert parsed.routing_key == "batch.completed"
    assert (parsed.source, parsed.schema_version) == ("els", 1)


def test_naive_times_and_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        BatchCompletedData(batch_id="b", completed_at=datetime(2026, 1, 1), report={})
    payload = slot_assigned().to_json()
    payload["surprise"] = True
    with pytest.raises(ValidationError):
        parse_event(json.dumps(payload))


def test_every_event_type_is_exported_once_with_its_routing_key() -> None:
    types = [event_type_of(model) for model in EVENT_MODELS]
    assert len(set(types)) == len(types) == 9
    assert sorted(export_schemas()) == sorted(types)
    with pytest.raises(TypeError):
        event_type_of(Event)
