"""A client that goes away mid-upload is an INFO line without a traceback, and stores nothing."""

from __future__ import annotations

import asyncio
import logging

import anyio
import pytest
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from api.metrics import REGISTRY, HttpMetrics
from els.settings import Settings
from tests.e2e.api.conftest import ALICE_TOKEN
from tests.e2e.api.test_auth_and_errors import register, submissions_of

BOUNDARY = "abortedboundary"


async def upload_then_disconnect(client: TestClient, batch_id: str) -> list[Message]:
    """Send half a multipart body to the app, then the disconnect a dropped connection produces."""
    half = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n'
        "Content-Type: text/plain\r\n\r\nThe first half of an essay that never"
    ).encode()
    incoming: list[Message] = [
        {"type": "http.request", "body": half, "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": f"/v1/batches/{batch_id}/essays",
        "raw_path": f"/v1/batches/{batch_id}/essays".encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", f"Bearer {ALICE_TOKEN}".encode()),
            (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "app": client.app,
    }
    await client.app(scope, receive, send)
    return sent


def counted(labels: dict[str, str], status: str) -> float:
    return REGISTRY.get_sample_value("els_http_requests_total", {**labels, "status": status}) or 0.0


def test_a_client_disconnect_mid_upload_is_logged_as_an_abort_and_stores_nothing(
    client: TestClient, api_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    batch_id = register(client)
    labels = {"method": "POST", "route": "/v1/batches/{batch_id}/essays"}
    before = {status: counted(labels, status) for status in ("499", "500")}
    with caplog.at_level(logging.INFO):
        anyio.run(upload_then_disconnect, client, batch_id)
    # Counted as the client's doing, never as a server error.
    assert {status: counted(labels, status) for status in before} == {
        "499": before["499"] + 1,
        "500": before["500"],
    }
    assert [record for record in caplog.records if record.levelno >= logging.WARNING] == []
    aborts = [record for record in caplog.records if "client aborted" in record.getMessage()]
    assert [(record.levelno, record.exc_info) for record in aborts] == [(logging.INFO, None)]
    assert submissions_of(api_settings, batch_id) == 0


async def cancelled_mid_request() -> None:
    async def cancelled(scope: Scope, receive: Receive, send: Send) -> None:
        raise asyncio.CancelledError  # the server cancelled the request's task: its client is gone

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        raise AssertionError(f"nothing is sent for a cancelled request, not {message}")

    scope: Scope = {"type": "http", "method": "GET", "path": "/gone", "route": None}
    with pytest.raises(asyncio.CancelledError):
        await HttpMetrics(cancelled)(scope, receive, send)


def test_a_request_cancelled_before_its_answer_counts_as_closed_by_the_client() -> None:
    labels = {"method": "GET", "route": "unmatched"}
    before = {status: counted(labels, status) for status in ("499", "500")}
    asyncio.run(cancelled_mid_request())
    assert counted(labels, "499") == before["499"] + 1 and counted(labels, "500") == before["500"]
