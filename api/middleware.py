"""ASGI middleware: the correlation id, the request size limit and the last-resort 500.

Pure ASGI (not BaseHTTPMiddleware) so bodies stream through untouched: the size limit checks
Content-Length up front and counts bytes as they arrive, before anything reads a whole body.
"""

from __future__ import annotations

import logging
import re
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response
from els.errors import PayloadTooLargeError
from els.logs import log_context

logger = logging.getLogger(__name__)

CORRELATION_HEADER = "X-Correlation-ID"
# The coordinator's id alphabet, so a correlation id can travel into tasks and events as it is.
_CORRELATION_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def accepted_correlation_id(value: str | None) -> str:
    """`value` when it is a valid correlation id, else a fresh one."""
    if value is not None and _CORRELATION_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestGuard:
    """Give every request a correlation id, bound its body size, and turn any crash into a 500 body."""

    def __init__(self, app: ASGIApp, max_request_bytes: int) -> None:
        self.app = app
        self.max_request_bytes = max_request_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request with its correlation id bound and its body counted."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        correlation_id = accepted_correlation_id(headers.get(CORRELATION_HEADER))
        scope.setdefault("state", {})["correlation_id"] = correlation_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message)[CORRELATION_HEADER] = correlation_id
            await send(message)

        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_request_bytes:
            response = error_response(
                413,
                PayloadTooLargeError.code,
                f"the request body is larger than {self.max_request_bytes} bytes",
                correlation_id,
                {"limit": self.max_request_bytes},
            )
            await response(scope, receive, send_with_id)
            return

        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_request_bytes:
                    raise PayloadTooLargeError(
                        f"the request body is larger than {self.max_request_bytes} bytes",
                        details={"limit": self.max_request_bytes},
                    )
            return message

        with log_context(correlation_id=correlation_id):
            try:
                await self.app(scope, counting_receive, send_with_id)
            except Exception as error:
                logger.error("unhandled error", exc_info=error)
                if not started:
                    response = error_response(500, "INTERNAL_ERROR", "internal error", correlation_id)
                    await response(scope, receive, send_with_id)
