"""Helpers of the coordinator tests: a fixed clock, registering batches, private redis-server processes."""

from __future__ import annotations

import random
import shutil
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import redis

from cli.embedded_redis import NO_PERSISTENCE, RedisServer, free_port
from coordinator import Coordinator, RegisterResult, registration_fingerprint

# A fixed, realistic "now": every test passes times explicitly, so none depends on the wall clock.
NOW = 1_800_000_000_000
HOUR_MS = 3_600_000


def register(
    coordinator: Coordinator,
    batch_id: str,
    count: int = 3,
    *,
    owner: str = "alice",
    essay_ids: Sequence[str] | None = None,
    deadline_ms: int = NOW + HOUR_MS,
    now_ms: int = NOW,
    metadata_json: str = "{}",
) -> RegisterResult:
    """Register a batch by count (or explicit ids) with a fingerprint of exactly that request."""
    essays: Sequence[str] | int = essay_ids if essay_ids is not None else count
    return coordinator.register(
        batch_id,
        owner,
        essay_ids=essay_ids,
        expected_count=None if essay_ids is not None else count,
        deadline_ms=deadline_ms,
        fingerprint=registration_fingerprint(owner, essays, (deadline_ms - now_ms) // 1000, metadata_json),
        correlation_id=f"corr-{batch_id}",
        metadata_json=metadata_json,
        now_ms=now_ms,
    )


def keys_of(client: redis.Redis, prefix: str) -> list[str]:
    """Every key under `prefix`, decoded and sorted."""
    return sorted(key.decode() for key in client.scan_iter(match=f"{prefix}:*", count=1000))


def batch_keys_of(client: redis.Redis, prefix: str, batch_id: str) -> list[str]:
    """Every key of one batch under `prefix`: its hash and its pending parking."""
    return [
        key
        for key in keys_of(client, prefix)
        if key.endswith((f":batch:{batch_id}", f":batch:{batch_id}:pending"))
    ]


def spare_port() -> int:
    """A TCP port nothing listens on right now."""
    return free_port()


def redis_server_available() -> bool:
    """Whether a redis-server binary is on PATH."""
    return shutil.which("redis-server") is not None


@contextmanager
def private_redis(directory: Path, *options: str, port: int | None = None) -> Iterator[int]:
    """A redis-server of the test's own (no persistence), stopped afterwards; yields its port."""
    with RedisServer(directory, (*NO_PERSISTENCE, *options), port=port, binary="redis-server") as server:
        yield server.port


def port_is_free(port: int) -> bool:
    """Whether nothing listens on the loopback `port`."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def cluster_ports(count: int) -> list[int]:
    """Ports whose cluster bus port (port + 10000) is free too."""
    ports: list[int] = []
    while len(ports) < count:
        port = random.randint(20_000, 29_999)
        if port not in ports and port_is_free(port) and port_is_free(port + 10_000):
            ports.append(port)
    return ports
