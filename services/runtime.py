"""What every use case runs with: the settings and the ports, built once per process by `bootstrap`."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from sqlalchemy import Engine

from coordinator import Coordinator
from coordinator.quota import QuotaLedger
from els.settings import Settings
from services.ports import BlobStore, Dispatcher, Publisher, RateLimiter


@dataclass(frozen=True)
class Runtime:
    """Settings, the coordinator, the database, the blob store of uploads, the dispatcher, an event
    publisher factory, the guards."""

    settings: Settings
    coordinator: Coordinator
    engine: Engine
    blobs: BlobStore
    dispatcher: Dispatcher
    open_publisher: Callable[[], AbstractContextManager[Publisher]]
    closers: tuple[Callable[[], None], ...] = field(default=())
    # Per-owner quotas and request rate limits; None (a runtime built by hand) enforces neither.
    quotas: QuotaLedger | None = None
    limiter: RateLimiter | None = None

    def close(self) -> None:
        """Release every connection this runtime holds."""
        for close in self.closers:
            close()
