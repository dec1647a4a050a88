"""What one pipeline step hands to the next, as typed payloads (an analysis outcome crosses the broker)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from els.jsontypes import JsonObject


@dataclass(frozen=True, kw_only=True)
class ProcessOutcome:
    """The result of processing one upload: a content hash to claim with, or a rejection to record.

    A fresh processing result also carries its text and metrics, which SQL records in the same unit of
    work as the slot Redis gives it, and its batch's language, to analyse the text in once it takes a
    slot; a replay rebuilt from SQL carries none of them (they are stored).
    """

    batch_id: str
    submission_id: str
    correlation_id: str
    kind: Literal["processed", "rejected"]
    content_hash: str | None = None
    code: str | None = None
    detail: str | None = None
    text: str | None = None
    metrics: JsonObject | None = None
    language: str | None = None


class AnalysisOutcome(BaseModel):
    """The small JSON an analysis header task returns to its chord: never an exception."""

    model_config = ConfigDict(frozen=True)

    essay_id: str
    ok: bool
    code: str | None = None
