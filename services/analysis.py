"""Analysing one assigned essay: spelling, readability, lexical measures. Never raises for bad text."""

from __future__ import annotations

import logging

from db.batches import load_batch
from db.essays import (
    load_essay,
    load_essay_text,
    record_analysis,
    record_analysis_failure,
    start_analysis,
)
from db.session import unit_of_work
from els.errors import ElsError, FailureCode, NotFoundError, RetryLaterError
from els.jsontypes import JsonObject
from essays.analysis import analyse_text
from essays.lifecycle import EssayState
from services.outcomes import AnalysisOutcome
from services.runtime import Runtime

log = logging.getLogger(__name__)

GIVEN_UP_DETAILS = {
    FailureCode.ANALYSIS_FAILED: (
        "this essay was accepted, but ELS could not analyse it because of an internal error"
    ),
    FailureCode.ANALYSIS_TIMEOUT: "this essay was accepted, but analysing it took too long and was stopped",
}


def analyse_essay(runtime: Runtime, essay_id: str) -> AnalysisOutcome:
    """Analyse and record one essay; a finished essay is reported as recorded (redelivery)."""
    with unit_of_work(runtime.engine) as session:
        essay = load_essay(session, essay_id)
        if essay is None:
            raise NotFoundError(f"essay {essay_id} is not stored")
        if essay.state in (EssayState.ANALYSED, EssayState.ANALYSIS_FAILED):
            return AnalysisOutcome(
                essay_id=essay_id, ok=essay.state is EssayState.ANALYSED, code=essay.error_code
            )
        if essay.state is EssayState.AWAITING:
            # Redis assigned the slot, but the settle that mirrors it into SQL has not landed yet.
            raise RetryLaterError(f"essay {essay_id} is assigned but not yet stored")
        batch = load_batch(session, essay.batch_id)
        language = batch.record.language if batch is not None else runtime.settings.default_language
        start_analysis(session, essay_id)
        text = load_essay_text(session, essay_id)
    try:
        analysis = analyse_text(text, language)
    except ElsError as error:
        log.warning("analysis failed: %s", error)
        with unit_of_work(runtime.engine) as session:
            record_analysis_failure(session, essay_id, error.code, error.message)
        return AnalysisOutcome(essay_id=essay_id, ok=False, code=error.code)
    with unit_of_work(runtime.engine) as session:
        record_analysis(session, essay_id, analysis.to_json())
    return AnalysisOutcome(essay_id=essay_id, ok=True)


def analyse_claimed_text(text: str, language: str) -> JsonObject | None:
    """The analysis of a text that just took its slot, to record with the slot; None leaves the essay
    READY for the completion chord to analyse (and to record why it cannot).

    Any error is only logged here: the slot is taken whatever the analysis does, and the chord's task,
    with its retries, time limit and failure codes, is where an analysis is allowed to fail.
    """
    try:
        return analyse_text(text, language).to_json()
    except Exception:
        log.exception("analysing the claimed text failed; the completion chord analyses it again")
        return None


def record_analysis_given_up(runtime: Runtime, essay_id: str, code: FailureCode) -> AnalysisOutcome:
    """The analysis of `essay_id` failed for good: record ANALYSIS_FAILED with `code`, unless it finished.

    An essay SQL does not hold as filled yet (its settle still retries) is left alone, so that settle can
    still land; the report then shows its slot as ANALYSIS_NOT_RUN.
    """
    with unit_of_work(runtime.engine) as session:
        essay = load_essay(session, essay_id)
        if essay is None or essay.state not in (EssayState.READY, EssayState.ANALYSING):
            if essay is not None and essay.state in (EssayState.ANALYSED, EssayState.ANALYSIS_FAILED):
                return AnalysisOutcome(
                    essay_id=essay_id, ok=essay.state is EssayState.ANALYSED, code=essay.error_code
                )
            return AnalysisOutcome(essay_id=essay_id, ok=False, code=FailureCode.ANALYSIS_NOT_RUN.value)
        start_analysis(session, essay_id)
        record_analysis_failure(session, essay_id, code.value, GIVEN_UP_DETAILS.get(code, code.value))
    return AnalysisOutcome(essay_id=essay_id, ok=False, code=code.value)
