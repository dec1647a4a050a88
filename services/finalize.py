"""Finalizing a batch: aggregate, persist the report and its event, move the batch to DONE once."""

from __future__ import annotations

import logging

from coordinator import BatchState, BatchStatus, Outcome, now_ms
from db.batches import write_report
from db.essays import EssayRecord, list_batch_essays
from db.session import unit_of_work
from els import metrics
from els.errors import FailureCode
from els.logs import log_context
from essays.analysis import EssayAnalysis
from essays.lifecycle import EssayState
from essays.report import AnalysedEssay, BatchFacts, BatchReport, EssayFailure, build_report
from services.relay import request_relay
from services.runtime import Runtime

log = logging.getLogger(__name__)


def finalize_batch(runtime: Runtime, batch_id: str) -> bool:
    """Write the report and mark the batch DONE; False when another finalizer holds or finished it."""
    coordinator = runtime.coordinator
    lease_ms = runtime.settings.stuck_after_seconds * 1000
    # Read before the CAS: the report is built from this one reading of the slots.
    status = coordinator.status(batch_id)
    if status is None:
        return False
    ticket = coordinator.begin_finalize(batch_id, None, lease_ms)
    if not ticket.acquired or ticket.token is None:
        log.info("finalize skipped: batch is %s", ticket.state)
        return False
    cancelled = status.closed_as is BatchState.CANCELLED
    if not cancelled:  # a cancelled batch gets no report: its SQL record stays CANCELLED
        with unit_of_work(runtime.engine) as session:
            report = report_for(status, list_batch_essays(session, batch_id))
            write_report(session, batch_id, report.to_json())
    finished = coordinator.complete_finalize(batch_id, ticket.token)
    if finished and not cancelled:
        metrics.COMPLETIONS.inc()
        closed_ms = status.closed_ms if status.closed_ms is not None else status.state_changed_ms
        metrics.FINALIZE_LATENCY.observe(max(0, now_ms() - closed_ms) / 1000)
    return finished


def report_for(status: BatchStatus, essays: list[EssayRecord]) -> BatchReport:
    """The batch report: how each slot was consumed comes from Redis, each analysis from SQL.

    Redis decides a slot before SQL mirrors it, and a mirror can lag (a settle retrying through an outage)
    while the batch seals on another slot, so SQL alone could still show a failed slot as awaiting.
    """
    stored = {essay.essay_id: essay for essay in essays}
    analysed: list[AnalysedEssay] = []
    failed: list[EssayFailure] = []
    analysis_failed: list[EssayFailure] = []
    for record in status.records:
        if record.outcome is Outcome.FAILED:
            failed.append(EssayFailure(record.essay_id, record.code or "", record.detail or ""))
            continue
        essay = stored.get(record.essay_id)
        if essay is not None and essay.state is EssayState.ANALYSED and essay.analysis is not None:
            analysed.append(AnalysedEssay(essay.essay_id, EssayAnalysis.from_json(essay.analysis)))
        else:
            code = (essay.error_code if essay else None) or FailureCode.ANALYSIS_NOT_RUN.value
            detail = (essay.error_detail if essay else None) or ""
            analysis_failed.append(EssayFailure(record.essay_id, code, detail))
    facts = BatchFacts(status.batch_id, status.expected, excess=status.excess, duplicates=status.duplicates)
    return build_report(facts, analysed, failed, analysis_failed, list(status.missing_essay_ids))


def finalize_and_relay(runtime: Runtime, batch_id: str) -> None:
    """Finalize the batch (once, whoever calls), then ask for its events to be published."""
    with log_context(batch_id=batch_id):
        finalize_batch(runtime, batch_id)
        request_relay(runtime)
