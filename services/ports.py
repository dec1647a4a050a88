"""The ports services reach the outside world through, as protocols: no Celery, kombu or HTTP here.

`bootstrap` wires the real adapters (a Celery dispatcher, a kombu publisher, a blob store); tests may pass
small fakes. `BlobStore` is defined beside its adapters (`db/blobs.py`) and named here with the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from db.blobs import BlobStore

__all__ = ["BlobStore", "Dispatcher", "OutgoingEvent", "Publisher", "RateLimiter"]


class Dispatcher(Protocol):
    """Starts work as messages, so it survives this process; every dispatch is safe to repeat."""

    def process(self, batch_id: str, submission_id: str, correlation_id: str) -> None:
        """Process a stored submission and settle it against its batch."""

    def follow_registration(self, batch_id: str, correlation_id: str) -> None:
        """Settle again what a registration replayed, and complete the batch if it closed."""

    def complete(self, batch_id: str) -> None:
        """Complete a sealed or expired batch: analysis, then its report."""

    def analyse_then_finalize(self, batch_id: str, essay_ids: Sequence[str]) -> None:
        """Analyse each essay, then finalize the batch once all analyses have answered."""

    def relay(self) -> None:
        """Publish the outbox soon."""

    def expire_at(self, batch_id: str, when_ms: int) -> None:
        """At `when_ms` (a batch's deadline), expire what is due; best effort, the sweep backs it up."""

    def send_webhooks(self, countdown: float = 0.0) -> None:
        """Attempt the due webhook deliveries, `countdown` seconds from now."""

    def ping(self) -> None:
        """Reach the broker, or raise."""


@dataclass(frozen=True)
class OutgoingEvent:
    """One event as the relay hands it over: its id, type, routing key and envelope JSON."""

    event_id: str
    event_type: str
    routing_key: str
    body: str


class Publisher(Protocol):
    """Anything that can publish an event; raises PublishError when it could not."""

    def publish(self, event: OutgoingEvent) -> None:
        """Publish `event` or raise PublishError."""


class RateLimiter(Protocol):
    """Counts requests per rule ("token", "address", "auth_failures") and identity."""

    def hit(self, rule: str, identity: str) -> float | None:
        """Count one request: None when it may go on, else the seconds it should wait."""

    def blocked(self, rule: str, identity: str) -> float | None:
        """Seconds to wait when `identity` has used up `rule` (counting nothing), else None."""
