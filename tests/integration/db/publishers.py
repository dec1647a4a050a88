"""Hand-written publishers for relay tests: one that records, one that fails."""

from __future__ import annotations

import threading

from els.errors import PublishError
from services.ports import OutgoingEvent


class RecordingPublisher:
    """Keeps every event it is given, in order; safe to share between relay threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.published: list[OutgoingEvent] = []

    def publish(self, event: OutgoingEvent) -> None:
        """Record `event`."""
        with self._lock:
            self.published.append(event)


class FailingPublisher:
    """A broker that is down: every publish raises PublishError."""

    def __init__(self) -> None:
        self.calls = 0

    def publish(self, event: OutgoingEvent) -> None:
        """Refuse `event`."""
        self.calls += 1
        raise PublishError(f"broker down, {event.event_id} not taken")
