"""The events ELS publishes: one envelope, nine event types, each with a JSON Schema.

An event id is a uuid5 of a fixed namespace and "<event type>:<business key>", so the same fact always
carries the same id, however often it is written or relayed: consumers de-duplicate by it. Business keys
are unique for ever because a batch id is never reused, not even after its batch is purged
(`retired_batches`), and submission ids are random.
The routing key of an event is its type. Run `python -m els.events docs/schemas` after changing a model.
"""

from __future__ import annotations

import json
import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated, Generic, Literal, Self, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue, TypeAdapter

from els.jsontypes import JsonObject

# Never change this: every event id ever published derives from it.
EVENT_NAMESPACE = uuid.UUID("b33bd463-13fc-449a-af73-e83839b2a0d5")
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def event_id_for(event_type: str, business_key: str) -> uuid.UUID:
    """The stable id of the event of `event_type` about `business_key`."""
    return uuid.uuid5(EVENT_NAMESPACE, f"{event_type}:{business_key}")


class EventData(BaseModel):
    """The business content of an event; every event is about one batch."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    batch_id: str

    def business_key(self) -> str:
        """What makes this fact unique among facts of its type (the batch, unless overridden)."""
        return self.batch_id


class BatchRegisteredData(EventData):
    """A batch was registered with its slots."""

    owner: str
    expected_count: int
    essay_ids: list[str]
    language: str
    course_code: str | None
    deadline_at: AwareDatetime
    metadata: dict[str, JsonValue]


class EssaySlotAssignedData(EventData):
    """An upload was accepted and took a slot."""

    essay_id: str
    submission_id: str
    filename: str
    content_hash: str

    def business_key(self) -> str:
        """A slot is assigned to a submission once. The batch is in the key because an explicit essay id
        may recur in other batches (a batch id never does), and the submission because a slot whose
        claim Redis lost is handed to another one."""
        return f"{self.batch_id}/{self.essay_id}/{self.submission_id}"


class EssayValidationFailedData(EventData):
    """An upload was rejected; `essay_id` is the slot its failure consumed, if it consumed one."""

    submission_id: str
    essay_id: str | None
    filename: str
    code: str
    detail: str

    def business_key(self) -> str:
        """An upload fails once."""
        return self.submission_id


class ExcessContentData(EventData):
    """An upload arrived when the batch had no slot left for it."""

    submission_id: str
    filename: str
    content_hash: str | None

    def business_key(self) -> str:
        """An upload is excess once."""
        return self.submission_id


class BatchSealedData(EventData):
    """Every slot of the batch is accounted for (assigned or failed)."""

    expected_count: int
    closed_at: AwareDatetime


class BatchExpiredData(EventData):
    """The batch's deadline passed with slots unfilled; those are `missing_essay_ids`."""

    expected_count: int
    missing_essay_ids: list[str]
    closed_at: AwareDatetime


class BatchClosedData(EventData):
    """The batch's owner closed it before it filled; the slots nobody consumed are `missing_essay_ids`."""

    expected_count: int
    missing_essay_ids: list[str]
    closed_at: AwareDatetime


class BatchCancelledData(EventData):
    """The batch's owner cancelled it: no analysis, no report; `missing_essay_ids` were never filled."""

    expected_count: int
    missing_essay_ids: list[str]
    cancelled_at: AwareDatetime


class BatchCompletedData(EventData):
    """The batch's analysis finished and its report is final."""

    completed_at: AwareDatetime
    report: dict[str, JsonValue]


DataT = TypeVar("DataT", bound=EventData)


class Event(BaseModel, Generic[DataT]):
    """The envelope every event travels in; `schema_version` versions the envelope, not the data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: uuid.UUID
    event_type: str
    occurred_at: AwareDatetime
    source: Literal["els"] = "els"
    schema_version: Literal[1] = 1
    correlation_id: str
    data: DataT

    @classmethod
    def create(cls, data: DataT, *, correlation_id: str, occurred_at: datetime) -> Self:
        """The event about `data`, with its deterministic id."""
        event_type = event_type_of(cls)
        return cls(
            event_id=event_id_for(event_type, data.business_key()),
            event_type=event_type,
            occurred_at=occurred_at,
            correlation_id=correlation_id,
            data=data,
        )

    @property
    def routing_key(self) -> str:
        """The routing key it is published with: its type."""
        return self.event_type

    def to_json(self) -> JsonObject:
        """The envelope as a JSON object, exactly as it is published."""
        return _JSON_OBJECT.validate_json(self.model_dump_json())


class BatchRegistered(Event[BatchRegisteredData]):
    """`batch.registered`: emitted once when a batch is first registered."""

    event_type: Literal["batch.registered"] = "batch.registered"


class EssaySlotAssigned(Event[EssaySlotAssignedData]):
    """`essay.slot_assigned`: emitted once per slot, when an accepted upload takes it."""

    event_type: Literal["essay.slot_assigned"] = "essay.slot_assigned"


class EssayValidationFailed(Event[EssayValidationFailedData]):
    """`essay.validation_failed`: emitted once per rejected upload."""

    event_type: Literal["essay.validation_failed"] = "essay.validation_failed"


class ExcessContent(Event[ExcessContentData]):
    """`essay.excess_content`: emitted once per upload that found no slot."""

    event_type: Literal["essay.excess_content"] = "essay.excess_content"


class BatchSealed(Event[BatchSealedData]):
    """`batch.sealed`: emitted once when every slot is accounted for."""

    event_type: Literal["batch.sealed"] = "batch.sealed"


class BatchExpired(Event[BatchExpiredData]):
    """`batch.expired`: emitted once when the deadline closes a batch with slots missing."""

    event_type: Literal["batch.expired"] = "batch.expired"


class BatchClosed(Event[BatchClosedData]):
    """`batch.closed`: emitted once when the owner closes a batch early."""

    event_type: Literal["batch.closed"] = "batch.closed"


class BatchCancelled(Event[BatchCancelledData]):
    """`batch.cancelled`: emitted once when the owner cancels a batch; no `batch.completed` follows."""

    event_type: Literal["batch.cancelled"] = "batch.cancelled"


class BatchCompleted(Event[BatchCompletedData]):
    """`batch.completed`: emitted once when the report is written."""

    event_type: Literal["batch.completed"] = "batch.completed"


AnyEvent = Annotated[
    BatchRegistered
    | EssaySlotAssigned
    | EssayValidationFailed
    | ExcessContent
    | BatchSealed
    | BatchExpired
    | BatchClosed
    | BatchCancelled
    | BatchCompleted,
    Field(discriminator="event_type"),
]

EVENT_MODELS: tuple[type[BaseModel], ...] = (
    BatchRegistered,
    EssaySlotAssigned,
    EssayValidationFailed,
    ExcessContent,
    BatchSealed,
    BatchExpired,
    BatchClosed,
    BatchCancelled,
    BatchCompleted,
)

_JSON_OBJECT: TypeAdapter[dict[str, JsonValue]] = TypeAdapter(dict[str, JsonValue])
_ANY_EVENT: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)


def event_type_of(model: type[BaseModel]) -> str:
    """The event type a concrete event model declares (the default of its `event_type`)."""
    field = model.model_fields.get("event_type")
    default = None if field is None else field.default
    if not isinstance(default, str) or model is Event:
        raise TypeError(f"{model.__name__} is not a concrete event type")
    return default


def parse_event(raw: str | bytes) -> AnyEvent:
    """Parse a published envelope into its event model; raises pydantic's ValidationError."""
    return _ANY_EVENT.validate_json(raw)


def export_schemas() -> dict[str, JsonObject]:
    """One JSON Schema per event type, keyed by the type."""
    schemas: dict[str, JsonObject] = {}
    for model in EVENT_MODELS:
        schema = _JSON_OBJECT.validate_python(model.model_json_schema())
        schemas[event_type_of(model)] = {"$schema": JSON_SCHEMA_DIALECT, **schema}
    return schemas


def render_schemas() -> dict[str, str]:
    """The checked-in schema files: `<event type>.json` -> its text, stable for diffs."""
    return {
        f"{event_type}.json": json.dumps(schema, indent=2, sort_keys=True) + "\n"
        for event_type, schema in export_schemas().items()
    }


def write_schemas(folder: Path) -> list[Path]:
    """Write every event's schema into `folder` (for `docs/schemas`); returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_schemas().items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    write_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas"))
