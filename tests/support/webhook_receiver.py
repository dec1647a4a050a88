"""A real Standard Webhooks receiver on 127.0.0.1: verifies every signature, fails the first attempts of
each message, and de-duplicates by `webhook-id` as the spec asks receivers to.

`hold_attempt` makes the receiver accept that attempt of each message and then keep its answer back until
`release()`, so a test can kill the sender while the request is in flight.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    """What the receiver saw, per `webhook-id`."""

    attempts: Counter[str] = field(default_factory=Counter)
    accepted: Counter[str] = field(default_factory=Counter)
    duplicates: Counter[str] = field(default_factory=Counter)
    bad_signatures: int = 0
    bodies: dict[str, bytes] = field(default_factory=dict)


class WebhookReceiver:
    """Answers 500 to the first `failures` attempts of each message, then accepts it once."""

    def __init__(self, secret: str, *, failures: int = 2, hold_attempt: int | None = None) -> None:
        self.verifier = Webhook(secret)
        self.failures = failures
        self.hold_attempt = hold_attempt
        self.received = Received()
        self.holding = threading.Event()
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Where to send webhooks."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/els"

    def use_secret(self, secret: str) -> None:
        """Verify signatures with `secret` from now on (an owner's secret is known once ELS made it)."""
        self.verifier = Webhook(secret)

    def release(self) -> None:
        """Let a held answer go."""
        self._released.set()

    def _answer(self, message_id: str) -> int:
        with self._lock:
            self.received.attempts[message_id] += 1
            attempt = self.received.attempts[message_id]
            if attempt <= self.failures:
                return 500
            if self.received.accepted[message_id]:
                self.received.duplicates[message_id] += 1
                return 200
            self.received.accepted[message_id] += 1
        if attempt == self.hold_attempt:
            self.holding.set()
            self._released.wait(timeout=120)
        return 200

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                try:
                    receiver.verifier.verify(body, dict(self.headers.items()), json_parse=False)
                except WebhookVerificationError:
                    with receiver._lock:
                        receiver.received.bad_signatures += 1
                    self._reply(400)
                    return
                message_id = self.headers["webhook-id"]
                receiver.received.bodies[message_id] = body
                self._reply(receiver._answer(message_id))

            def _reply(self, status: int) -> None:
                try:
                    self.send_response(status)
                    self.send_header("content-length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender is gone (killed mid-request)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        return Handler

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
