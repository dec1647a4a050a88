"""The essay pipeline as Celery tasks, each a thin edge over a service; names are stable `els.*`."""

from __future__ import annotations

import logging

from celery.exceptions import SoftTimeLimitExceeded

from els.errors import FailureCode
from services import completion, finalize, process
from services.analysis import analyse_essay as analyse_one
from services.analysis import record_analysis_given_up
from tasks.installed import runtime
from tasks.retry import ANALYSIS_MAX_RETRIES, SETTLE_MAX_RETRIES, is_final_failure, retrying_task

log = logging.getLogger(__name__)


@retrying_task("els.process_essay", max_retries=SETTLE_MAX_RETRIES)
def process_essay(batch_id: str, submission_id: str, correlation_id: str) -> None:
    """Process one upload and claim its slot (or record its rejection)."""
    process.process_and_settle(runtime(), batch_id, submission_id, correlation_id)


@retrying_task("els.record_processing_failure", max_retries=SETTLE_MAX_RETRIES)
def record_processing_failure(
    task_id: str, *, batch_id: str, submission_id: str, correlation_id: str
) -> None:
    """Error callback of `process_essay` (failed for good): the failure still takes its slot.

    Celery sends an error callback that takes one positional argument as a new task with the failed
    task's id as that argument, in front of the signature's own arguments; so those are keywords only.
    """
    process.record_processing_failure(
        runtime(),
        batch_id=batch_id,
        submission_id=submission_id,
        correlation_id=correlation_id,
        task_id=task_id,
    )


@retrying_task("els.registration_followup", max_retries=SETTLE_MAX_RETRIES)
def registration_followup(batch_id: str, correlation_id: str) -> None:
    """Settle what a registration replayed, and complete the batch if it closed."""
    completion.follow_registration(runtime(), batch_id, correlation_id)


@retrying_task("els.complete_batch", max_retries=SETTLE_MAX_RETRIES)
def complete_batch(batch_id: str) -> None:
    """Mirror a closed batch into SQL, then run its analysis chord and finalizer."""
    completion.complete_batch(runtime(), batch_id)


@retrying_task("els.analyse_essay", max_retries=ANALYSIS_MAX_RETRIES, ignore_result=False)
def analyse_essay(batch_id: str, essay_id: str) -> dict[str, object]:
    """Chord header: analyse one essay and return small JSON; every final failure is recorded, not raised.

    A header that raised would fail the chord, so its callback would never write the batch's report.
    """
    try:
        outcome = analyse_one(runtime(), essay_id)
    except Exception as error:
        if not is_final_failure(error):
            raise  # retried with backoff
        log.exception("analysis of essay %s failed for good", essay_id)
        timed_out = isinstance(error, SoftTimeLimitExceeded)
        code = FailureCode.ANALYSIS_TIMEOUT if timed_out else FailureCode.ANALYSIS_FAILED
        outcome = record_analysis_given_up(runtime(), essay_id, code)
    return outcome.model_dump(mode="json")


@retrying_task("els.finalize_batch", max_retries=SETTLE_MAX_RETRIES)
def finalize_batch(batch_id: str) -> None:
    """Chord callback: aggregate, persist the report and its event, move the batch to DONE (once)."""
    finalize.finalize_and_relay(runtime(), batch_id)
