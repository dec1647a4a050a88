"""Prometheus metrics. Labels are bounded sets (outcomes, codes, states): never a batch or essay id."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

CLAIMS = Counter(
    "els_claims_total",
    "Slot claims by outcome (assigned, duplicate, excess, pending).",
    ["outcome"],
)
FAILURES = Counter(
    "els_failures_total",
    "Final essay failures recorded against a batch, by stable error code.",
    ["code"],
)
SEALS = Counter("els_batches_sealed_total", "Batches sealed because every slot was accounted for.")
EXPIRIES = Counter(
    "els_batches_expired_total",
    "Batches closed because their deadline passed (by the sweep, or by the first claim after it).",
)
REKICKS = Counter("els_batches_rekicked_total", "Batches the sweep found stuck and dispatched again.")
VANISHED = Counter(
    "els_batches_vanished_total",
    "Batches closed but not DONE whose Redis keys are gone: they cannot finish and need an operator.",
)
RECONCILED = Counter(
    "els_batches_reconciled_total",
    "Batches stored in SQL that Redis never took (a registration that failed midway), expired from SQL.",
)
RESUBMISSIONS = Counter(
    "els_submissions_resubmitted_total", "Unsettled submissions the sweep found untouched and enqueued again."
)
COMPLETIONS = Counter("els_batches_completed_total", "Batches that reached DONE with a report.")
FINALIZE_LATENCY = Histogram(
    "els_finalize_latency_seconds",
    "Time from a batch being sealed or expired to it being DONE.",
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600),
)
EVENTS_PUBLISHED = Counter(
    "els_events_published_total", "Outbox events published, by event type.", ["event_type"]
)
EVENTS_PARKED = Counter("els_events_parked_total", "Outbox events parked after too many failed attempts.")
WEBHOOK_DELIVERIES = Counter(
    "els_webhook_deliveries_total",
    "Webhook delivery attempts by outcome (delivered, failed, dead); refused counts attempts whose target "
    "was refused, besides their failed or dead.",
    ["outcome"],
)
WEBHOOK_DEAD_LETTERS = Counter(
    "els_webhook_dead_letters_total", "Webhook deliveries that ran out of attempts and are dead."
)
