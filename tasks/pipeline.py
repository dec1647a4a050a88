"""The essay pipeline as Celery tasks, each a thin edge over a service; names are stable `els.*`."""

from __future__ import annotations

from services import completion, finalize, process
from services.analysis import analyse_essay as analyse_one
from tasks.installed import runtime
from tasks.retry import ANALYSIS_MAX_RETRIES, SETTLE_MAX_RETRIES, retrying_task


@retrying_task("els.process_essay", max_retries=SETTLE_MAX_RETRIES)
def process_essay(batch_id: str, submission_id: str, correlation_id: str) -> None:
    """Process one upload and claim its slot (or record its rejection)."""
    process.process_and_settle(runtime(), batch_id, submission_id, correlation_id)


@retrying_task("els.record_processing_failure", max_retries=SETTLE_MAX_RETRIES)
def record_processing_failure(batch_id: str, submission_id: str, correlation_id: str, task_id: str) -> None:
    """Error callback of `process_essay` (retries exhausted): a final failure counts toward completion."""
    process.record_processing_failure(runtime(), batch_id, submission_id, correlation_id, task_id)


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
    """Chord header: analyse one essay and return small JSON; business failures are recorded, not raised."""
    return analyse_one(runtime(), essay_id).model_dump(mode="json")


@retrying_task("els.finalize_batch", max_retries=SETTLE_MAX_RETRIES)
def finalize_batch(batch_id: str) -> None:
    """Chord callback: aggregate, persist the report and its event, move the batch to DONE (once)."""
    finalize.finalize_and_relay(runtime(), batch_id)
