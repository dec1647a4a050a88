"""What one pipeline step hands to the next, as typed JSON payloads (they cross the broker)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class ProcessOutcome(BaseModel):
    """The result of processing one upload: a content hash to claim with, or a rejection to record."""

    model_config = ConfigDict(frozen=True)

    batch_id: str
    submission_id: str
    correlation_id: str
    kind: Literal["processed", "rejected"]
    content_hash: str | None = None
    code: str | None = None
    detail: str | None = None


class AnalysisOutcome(BaseModel):
    """The small JSON an analysis header task returns to its chord: never an exception."""

    model_config = ConfigDict(frozen=True)

    essay_id: str
    ok: bool
    code: str | None = None
