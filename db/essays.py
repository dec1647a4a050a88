"""Essays (slots) in SQL: reading them, and the analysis steps of a filled slot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.clock import stamp
from db.contents import load_content
from db.models import Essay, Submission
from db.writes import locked_row
from els.errors import NotFoundError
from els.jsontypes import JsonObject
from essays.lifecycle import EssayState, advance_essay

FINISHED = frozenset({EssayState.ANALYSED, EssayState.ANALYSIS_FAILED})


@dataclass(frozen=True)
class EssayRecord:
    """One slot as SQL holds it now."""

    essay_id: str
    batch_id: str
    position: int
    state: EssayState
    submission_id: str | None
    content_hash: str | None
    metrics: JsonObject | None
    analysis: JsonObject | None
    error_code: str | None
    error_detail: str | None
    created_at: datetime
    updated_at: datetime


def load_essay(session: Session, essay_id: str) -> EssayRecord | None:
    """The essay, or None."""
    row = session.get(Essay, essay_id)
    return None if row is None else _record(row)


def list_batch_essays(session: Session, batch_id: str) -> list[EssayRecord]:
    """Every slot of the batch, in slot order (empty for an unknown batch)."""
    rows = session.scalars(select(Essay).where(Essay.batch_id == batch_id).order_by(Essay.position))
    return [_record(row) for row in rows]


def list_batch_essays_at(session: Session, batch_id: str, first: int, count: int) -> list[EssayRecord]:
    """The slots at positions first..first+count-1 of the batch, in slot order (one page of a listing)."""
    rows = session.scalars(
        select(Essay)
        .where(Essay.batch_id == batch_id, Essay.position >= first, Essay.position < first + count)
        .order_by(Essay.position)
    )
    return [_record(row) for row in rows]


def load_essay_text(session: Session, essay_id: str) -> str:
    """The normalised text of the submission filling the slot; raises NotFoundError without one."""
    text_sha256 = session.scalar(
        select(Submission.text_sha256)
        .join(Essay, Essay.submission_id == Submission.submission_id)
        .where(Essay.essay_id == essay_id)
    )
    data = None if text_sha256 is None else load_content(session, text_sha256)
    if data is None:
        raise NotFoundError(f"essay {essay_id} has no stored text", details={"essay_id": essay_id})
    return data.decode("utf-8")


def start_analysis(session: Session, essay_id: str, *, at: datetime | None = None) -> bool:
    """READY -> ANALYSING. True when the analysis should run (now or again), False when it finished."""
    row = _get_essay(session, essay_id)
    state = EssayState(row.state)
    if state in FINISHED:
        return False
    if advance_essay(state, EssayState.ANALYSING):
        row.state = EssayState.ANALYSING.value
        row.updated_at = stamp(at)
    return True


def record_analysis(
    session: Session, essay_id: str, analysis: JsonObject, *, at: datetime | None = None
) -> bool:
    """ANALYSING -> ANALYSED with its analysis; False when it is recorded already."""
    row = _get_essay(session, essay_id)
    if not advance_essay(EssayState(row.state), EssayState.ANALYSED):
        return False
    row.state = EssayState.ANALYSED.value
    row.analysis = analysis
    row.updated_at = stamp(at)
    return True


def record_claimed_analysis(
    session: Session, essay_id: str, submission_id: str, analysis: JsonObject, *, at: datetime | None = None
) -> bool:
    """READY -> ANALYSED with the analysis made when `submission_id` took the slot; False when the slot
    is not that submission's or is analysed already (a replayed settle)."""
    row = _get_essay(session, essay_id)
    if row.submission_id != submission_id or row.state != EssayState.READY.value:
        return False
    start_analysis(session, essay_id, at=at)
    return record_analysis(session, essay_id, analysis, at=at)


def finished_essay_ids(session: Session, batch_id: str) -> set[str]:
    """The batch's slots whose analysis is recorded (done or failed): the completion chord skips them."""
    states = [state.value for state in FINISHED]
    rows = session.scalars(select(Essay.essay_id).where(Essay.batch_id == batch_id, Essay.state.in_(states)))
    return set(rows)


def record_analysis_failure(
    session: Session, essay_id: str, code: str, detail: str, *, at: datetime | None = None
) -> bool:
    """ANALYSING -> ANALYSIS_FAILED with why; False when it is recorded already."""
    row = _get_essay(session, essay_id)
    if not advance_essay(EssayState(row.state), EssayState.ANALYSIS_FAILED):
        return False
    row.state = EssayState.ANALYSIS_FAILED.value
    row.error_code = code
    row.error_detail = detail
    row.updated_at = stamp(at)
    return True


def _get_essay(session: Session, essay_id: str) -> Essay:
    row = locked_row(session, Essay, essay_id)
    if row is None:
        raise NotFoundError(f"essay {essay_id} is not stored", details={"essay_id": essay_id})
    return row


def _record(row: Essay) -> EssayRecord:
    return EssayRecord(
        essay_id=row.essay_id,
        batch_id=row.batch_id,
        position=row.position,
        state=EssayState(row.state),
        submission_id=row.submission_id,
        content_hash=row.content_hash,
        metrics=row.metrics,
        analysis=row.analysis,
        error_code=row.error_code,
        error_detail=row.error_detail,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
