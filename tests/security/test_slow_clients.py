"""Issue row 8: slow clients sending partial headers are dropped, and /healthz answers meanwhile.

A real uvicorn server runs the API with the options `els api` gives it; 60 connections send the start of a
request and then nothing. The assertions count: how many were dropped, how many health checks answered.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from api.app import create_app
from cli.http_limits import SlowClientGuard, uvicorn_limits
from els.settings import Settings

SLOW_CLIENTS = 60


@pytest.fixture
def server(api_settings: Settings) -> Iterator[tuple[str, int]]:
    """The API under uvicorn on a free port, with a 1 s header deadline; (host, port)."""
    settings = api_settings.model_copy(
        update={"api_header_timeout_seconds": 1.0, "api_limit_concurrency": 500}
    )
    limits = uvicorn_limits(settings)
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=0,
        log_config=None,
        http=limits.http,
        timeout_keep_alive=limits.timeout_keep_alive,
        h11_max_incomplete_event_size=limits.h11_max_incomplete_event_size,
        limit_concurrency=limits.limit_concurrency,
    )
    served = uvicorn.Server(config)
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not served.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    port = served.servers[0].sockets[0].getsockname()[1]
    yield "127.0.0.1", int(port)
    served.should_exit = True
    thread.join(timeout=30)


def closed_by_server(connection: socket.socket) -> bool:
    """Whether the server has closed this connection (EOF or reset), without waiting."""
    connection.setblocking(False)
    try:
        return connection.recv(1024) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def test_the_settings_reach_uvicorn() -> None:
    settings = Settings(
        api_timeout_keep_alive=3,
        api_max_header_bytes=8192,
        api_limit_concurrency=50,
        api_header_timeout_seconds=4,
    )
    limits = uvicorn_limits(settings)
    assert (limits.timeout_keep_alive, limits.h11_max_incomplete_event_size, limits.limit_concurrency) == (
        3,
        8192,
        50,
    )
    assert issubclass(limits.http, SlowClientGuard) and limits.http.header_timeout == 4


@pytest.mark.slow
def test_partial_headers_are_dropped_and_healthz_still_answers(server: tuple[str, int]) -> None:
    host, port = server
    slow: list[socket.socket] = []
    try:
        for index in range(SLOW_CLIENTS):
            connection = socket.create_connection((host, port), timeout=10)
            connection.sendall(f"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow-{index}: ".encode())
            slow.append(connection)
        # While they hang on, the API answers.
        with httpx.Client(base_url=f"http://{host}:{port}", timeout=30) as client:
            answered = sum(client.get("/healthz").status_code == 200 for _ in range(5))
        assert answered == 5
        # Each slow client is dropped once its header deadline passes (polled, generously bounded).
        dropped: set[int] = set()
        give_up = time.monotonic() + 60
        while len(dropped) < SLOW_CLIENTS and time.monotonic() < give_up:
            dropped |= {
                index
                for index, connection in enumerate(slow)
                if index not in dropped and closed_by_server(connection)
            }
            time.sleep(0.2)
        assert len(dropped) == SLOW_CLIENTS
        # A client that sends its headers in full is answered on the same kind of connection.
        with socket.create_connection((host, port), timeout=10) as complete:
            complete.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert complete.recv(1024).startswith(b"HTTP/1.1 200")
    finally:
        for connection in slow:
            with contextlib.suppress(OSError):
                connection.close()


def test_headers_growing_past_the_limit_are_refused_without_waiting_for_their_end(
    server: tuple[str, int],
) -> None:
    host, port = server
    with socket.create_connection((host, port), timeout=10) as connection:
        # 40 KB of one header and no end of headers: refused once the buffer passes ELS_API_MAX_HEADER_BYTES.
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40_000)
        reply = connection.recv(1024)
    assert reply.startswith(b"HTTP/1.1 400")
