"""Processing one upload: load it, turn it into normalised text, hash and measure it."""

from __future__ import annotations

import logging

from db.batches import batch_language
from db.session import unit_of_work
from db.submissions import (
    SubmissionRecord,
    load_submission,
    start_processing_attempt,
)
from els.errors import BlobStoreUnavailableError, EssayRejectedError, FailureCode, NotFoundError
from els.logs import log_context
from els.settings import Settings
from essays.lifecycle import SubmissionState
from essays.upload import process_upload
from essays.validate import Limits
from services.outcomes import ProcessOutcome
from services.pdf_sandbox import sandboxed_pdf_text
from services.runtime import Runtime
from services.settle import PROCESSING_FAILED, settle_and_dispatch

log = logging.getLogger(__name__)

CRASHED_DETAIL = (
    "processing this file stopped the worker {attempts} times, so ELS gave up on it; the file may be "
    "damaged: check that it opens, save it again and upload it once more"
)


def limits_from(settings: Settings) -> Limits:
    """The essay rules configured for this deployment."""
    return Limits(
        max_upload_bytes=settings.max_upload_bytes,
        min_words=settings.min_words,
        max_words=settings.max_words,
        docx_max_uncompressed_bytes=settings.docx_max_uncompressed_bytes,
        docx_max_compression_ratio=settings.docx_max_compression_ratio,
        pdf_max_pages=settings.pdf_max_pages,
        pdf_max_seconds=settings.pdf_max_seconds,
        pdf_max_page_content_bytes=settings.pdf_max_page_content_bytes,
        pdf_max_content_bytes=settings.pdf_max_content_bytes,
    )


def process_submission(
    runtime: Runtime, batch_id: str, submission_id: str, correlation_id: str
) -> ProcessOutcome:
    """Process one stored upload; a rejection is an outcome, not an exception. Safe to run twice.

    Writes no SQL: the start is counted in Redis (attempt.lua), so the essay's one write unit is its
    settle, which records the text with its slot outcome and events.
    """
    with unit_of_work(runtime.engine, read_only=True) as session:
        submission = load_submission(session, submission_id)
        if submission is None or submission.batch_id != batch_id:
            raise NotFoundError(f"submission {submission_id} of batch {batch_id} is not stored")
        unsettled = submission.state in (SubmissionState.RECEIVED, SubmissionState.PROCESSING)
        if not unsettled or submission.content_hash is not None:
            # Settled already, or processed and not yet claimed (a retry, a redelivery): hand the recorded
            # facts on again; settling is idempotent.
            return settled_outcome(submission, correlation_id)
        language = batch_language(session, batch_id)
    # Read before the attempt is counted: a blob store that does not answer is retried as an outage, not
    # counted against the upload.
    data = runtime.blobs.get(submission.upload_blob_key)
    if data is None:
        raise BlobStoreUnavailableError(
            f"the blob store has no {submission.upload_blob_key}, the upload of {submission_id}"
        )
    attempt = _start_attempt(runtime, batch_id, submission_id)
    if attempt > runtime.settings.max_processing_attempts:
        # Every earlier start ended without a result: the upload kills the process that reads it.
        log.warning("submission failed: its processing started %d times and never finished", attempt - 1)
        return ProcessOutcome(
            batch_id=batch_id,
            submission_id=submission_id,
            correlation_id=correlation_id,
            kind="rejected",
            code=FailureCode.PROCESSING_CRASHED.value,
            detail=CRASHED_DETAIL.format(attempts=attempt - 1),
        )
    try:
        # PDFs are read in a child process killed at ELS_PDF_MAX_SECONDS (services/pdf_sandbox.py).
        processed = process_upload(
            data, submission.filename, limits_from(runtime.settings), sandboxed_pdf_text
        )
    except EssayRejectedError as rejection:
        log.info("submission rejected: %s", rejection)
        return ProcessOutcome(
            batch_id=batch_id,
            submission_id=submission_id,
            correlation_id=correlation_id,
            kind="rejected",
            code=rejection.code,
            detail=rejection.message,
        )
    # Recorded with its slot, in the settle's one unit of work (services/settle.py).
    return ProcessOutcome(
        batch_id=batch_id,
        submission_id=submission_id,
        correlation_id=correlation_id,
        kind="processed",
        content_hash=processed.content_hash,
        text=processed.text,
        metrics=processed.metrics.to_json(),
        language=language,
    )


def _start_attempt(runtime: Runtime, batch_id: str, submission_id: str) -> int:
    # Counted before the work it counts, so a delivery whose worker dies mid-processing still counts.
    attempt = runtime.coordinator.start_attempt(batch_id, submission_id)
    if attempt is not None:
        return attempt
    # The batch is not in Redis (its state was lost): SQL counts, so the guard still holds.
    with unit_of_work(runtime.engine) as session:
        return start_processing_attempt(session, submission_id)


def settled_outcome(submission: SubmissionRecord, correlation_id: str) -> ProcessOutcome:
    """The outcome a settled submission was processed to, rebuilt from what SQL recorded."""
    if submission.state is SubmissionState.FAILED or submission.content_hash is None:
        return ProcessOutcome(
            batch_id=submission.batch_id,
            submission_id=submission.submission_id,
            correlation_id=correlation_id,
            kind="rejected",
            code=submission.error_code or PROCESSING_FAILED,
            detail=submission.error_detail or "",
        )
    return ProcessOutcome(
        batch_id=submission.batch_id,
        submission_id=submission.submission_id,
        correlation_id=correlation_id,
        kind="processed",
        content_hash=submission.content_hash,
    )


def process_and_settle(runtime: Runtime, batch_id: str, submission_id: str, correlation_id: str) -> None:
    """Turn one upload into text, hash and metrics, then claim its slot or record its rejection.

    One unit per essay: the claim follows the processing at once instead of queueing behind every
    upload still waiting. A retry after the processing was recorded goes straight to the claim.
    """
    with log_context(batch_id=batch_id, submission_id=submission_id, correlation_id=correlation_id):
        outcome = process_submission(runtime, batch_id, submission_id, correlation_id)
    settle_and_dispatch(runtime, outcome)


def record_processing_failure(
    runtime: Runtime, *, batch_id: str, submission_id: str, correlation_id: str, task_id: str
) -> None:
    """Processing failed for good (retries exhausted): the failure still counts toward completion."""
    outcome = ProcessOutcome(
        batch_id=batch_id,
        submission_id=submission_id,
        correlation_id=correlation_id,
        kind="rejected",
        code=PROCESSING_FAILED,
        detail=f"processing task {task_id} failed after its retries",
    )
    settle_and_dispatch(runtime, outcome)
