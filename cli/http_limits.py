"""The HTTP server's own limits for `els api`: uvicorn's options from settings, and a header deadline.

uvicorn times out idle keep-alive connections but not a client that is still sending its headers, so a
slow client (a byte now and then, never the blank line) would hold a connection for ever. `SlowClientGuard`
is uvicorn's h11 protocol with one more timer: a client must finish each request's headers within
`ELS_API_HEADER_TIMEOUT_SECONDS` of opening the connection (or of the request's first byte on a
keep-alive connection), or it is dropped. Slow bodies are bounded by the reverse proxy in production
(docs/security.md); here, by the request size limit and the concurrency limit.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from els.settings import Settings


class SlowClientGuard(H11Protocol):
    """H11Protocol dropping a client that has not sent a request's headers in full within `header_timeout`."""

    header_timeout: float = 10.0
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start the header deadline as the connection opens."""
        if not isinstance(transport, asyncio.Transport):
            raise TypeError(f"an HTTP connection needs a stream transport, not {type(transport).__name__}")
        super().connection_made(transport)
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        """Feed h11; the deadline runs while a request's headers are incomplete, from their first byte."""
        super().data_received(data)
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            if self._header_timer is None:
                self._arm_header_timer()
        else:
            self._disarm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the deadline with the connection."""
        self._disarm_header_timer()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        self._disarm_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout, self._drop_slow_client)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _drop_slow_client(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def guarded_protocol(settings: Settings) -> type[SlowClientGuard]:
    """SlowClientGuard with the settings' header deadline."""
    return type(
        "SlowClientGuard", (SlowClientGuard,), {"header_timeout": settings.api_header_timeout_seconds}
    )


@dataclass(frozen=True)
class ServerLimits:
    """uvicorn's options bounding connections and their requests."""

    http: type[SlowClientGuard]
    timeout_keep_alive: int
    h11_max_incomplete_event_size: int
    limit_concurrency: int | None


def uvicorn_limits(settings: Settings) -> ServerLimits:
    """The server limits `settings` give."""
    return ServerLimits(
        http=guarded_protocol(settings),
        timeout_keep_alive=settings.api_timeout_keep_alive,
        h11_max_incomplete_event_size=settings.api_max_header_bytes,
        limit_concurrency=settings.api_limit_concurrency,
    )
