"""What every use case runs with: the settings and the ports, built once per process by `bootstrap`."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from sqlalchemy import Engine

from coordinator import Coordinator
from els.settings import Settings
from services.ports import Dispatcher, Publisher


@dataclass(frozen=True)
class Runtime:
    """Settings, the coordinator, the database, the dispatcher and a way to open an event publisher."""

    settings: Settings
    coordinator: Coordinator
    engine: Engine
    dispatcher: Dispatcher
    open_publisher: Callable[[], AbstractContextManager[Publisher]]
    closers: tuple[Callable[[], None], ...] = field(default=())

    def close(self) -> None:
        """Release every connection this runtime holds."""
        for close in self.closers:
            close()
