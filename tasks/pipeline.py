"""The essay pipeline as Celery tasks: thin edges over `pipeline/`; names are stable `els.*`."""

from __future__ import annotations

import logging

from celery import chord

from coordinator import BatchState
from db.session import unit_of_work
from db.submissions import list_unsettled_submissions
from els.logs import log_context
from els.runtime import get_runtime
from pipeline.analysis import analyse_essay as analyse_one
from pipeline.completion import plan_completion
from pipeline.finalize import finalize_batch as finalize_one
from pipeline.outcomes import ProcessOutcome
from pipeline.process import process_submission
from pipeline.settle import PROCESSING_FAILED, settle
from tasks.relay import request_relay
from tasks.retry import ANALYSIS_MAX_RETRIES, SETTLE_MAX_RETRIES, retrying_task

log = logging.getLogger(__name__)


@retrying_task("els.process_essay", max_retries=SETTLE_MAX_RETRIES)
def process_essay(batch_id: str, submission_id: str, correlation_id: str) -> None:
    """Turn one upload into text, hash and metrics, then claim its slot or record its rejection.

    One task per essay: the claim follows the processing at once instead of queueing behind every
    upload still waiting. A retry after the processing was recorded goes straight to the claim.
    """
    with log_context(batch_id=batch_id, submission_id=submission_id, correlation_id=correlation_id):
        outcome = process_submission(get_runtime(), batch_id, submission_id, correlation_id)
    settle_and_dispatch(outcome)


@retrying_task("els.record_processing_failure", max_retries=SETTLE_MAX_RETRIES)
def record_processing_failure(batch_id: str, submission_id: str, correlation_id: str, task_id: str) -> None:
    """Error callback of `process_essay` (retries exhausted): a final failure counts toward completion."""
    outcome = ProcessOutcome(
        batch_id=batch_id,
        submission_id=submission_id,
        correlation_id=correlation_id,
        kind="rejected",
        code=PROCESSING_FAILED,
        detail=f"processing task {task_id} failed after its retries",
    )
    settle_and_dispatch(outcome)


def settle_and_dispatch(outcome: ProcessOutcome) -> None:
    """Settle one outcome; the one caller that sealed the batch dispatches its completion."""
    with log_context(
        batch_id=outcome.batch_id, submission_id=outcome.submission_id, correlation_id=outcome.correlation_id
    ):
        result = settle(get_runtime(), outcome)
        request_relay()
        if result.sealed:
            dispatch_completion(outcome.batch_id)


@retrying_task("els.registration_followup", max_retries=SETTLE_MAX_RETRIES)
def registration_followup(batch_id: str, correlation_id: str) -> None:
    """After a registration replayed parked outcomes: settle those submissions again, complete if closed."""
    with log_context(batch_id=batch_id, correlation_id=correlation_id):
        runtime = get_runtime()
        with unit_of_work(runtime.engine, read_only=True) as session:
            unsettled = list_unsettled_submissions(session, batch_id)
        for submission_id in unsettled:
            start_processing(batch_id, submission_id, correlation_id)
        status = runtime.coordinator.status(batch_id)
        if status is not None and status.state in (BatchState.SEALED, BatchState.EXPIRED):
            # Only the registration saw `sealed`; a second dispatch is harmless (finalize is a CAS).
            dispatch_completion(batch_id)


def start_processing(batch_id: str, submission_id: str, correlation_id: str) -> None:
    """Publish `process_essay` for a stored submission; its error link records a final failure."""
    process_essay.apply_async(
        args=(batch_id, submission_id, correlation_id),
        task_id=f"els-process-{submission_id}",
        link_error=record_processing_failure.s(batch_id, submission_id, correlation_id),
    )


@retrying_task("els.complete_batch", max_retries=SETTLE_MAX_RETRIES)
def complete_batch(batch_id: str) -> None:
    """Mirror a closed batch into SQL, then run its analysis chord and finalizer."""
    with log_context(batch_id=batch_id):
        plan = plan_completion(get_runtime(), batch_id)
        request_relay()
        if plan.done:
            return
        finalizer = finalize_batch.si(batch_id).set(task_id=f"els-finalize-{batch_id}")
        if not plan.essay_ids:
            finalizer.apply_async()
            return
        chord(analyse_essay.si(batch_id, essay_id) for essay_id in plan.essay_ids)(finalizer)


def dispatch_completion(batch_id: str) -> None:
    """Start completion of a sealed or expired batch (a message, so it survives this process)."""
    complete_batch.apply_async(args=(batch_id,), task_id=f"els-complete-{batch_id}")


@retrying_task("els.analyse_essay", max_retries=ANALYSIS_MAX_RETRIES, ignore_result=False)
def analyse_essay(batch_id: str, essay_id: str) -> dict[str, object]:
    """Chord header: analyse one essay and return small JSON; business failures are recorded, not raised."""
    with log_context(batch_id=batch_id, essay_id=essay_id):
        return analyse_one(get_runtime(), essay_id).model_dump(mode="json")


@retrying_task("els.finalize_batch", max_retries=SETTLE_MAX_RETRIES)
def finalize_batch(batch_id: str) -> None:
    """Chord callback: aggregate, persist the report and its event, move the batch to DONE (once)."""
    with log_context(batch_id=batch_id):
        finalize_one(get_runtime(), batch_id)
        request_relay()
