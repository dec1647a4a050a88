"""A private Redis primary with one replica, on free loopback ports, and the ways a test makes the replica
fall behind: stopped (SIGSTOP, so the primary still counts it connected and WAIT times out) or detached
(`REPLICAOF NO ONE`, so the primary has no replica at all)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from cli.embedded_redis import NO_PERSISTENCE, RedisServer

LINK_TIMEOUT = 20.0


@dataclass(frozen=True)
class ReplicatedRedis:
    """The ports of the pair; `url` is the primary's."""

    primary: int
    replica: int

    @property
    def url(self) -> str:
        """The primary's URL (database 0)."""
        return f"redis://127.0.0.1:{self.primary}/0"

    def replica_client(self) -> redis.Redis:
        """A client of the replica (reads only); close it after."""
        return redis.Redis(port=self.replica)


@contextmanager
def replicated_redis(directory: Path) -> Iterator[ReplicatedRedis]:
    """Start a primary and a replica of it (no persistence) and wait until the primary counts the
    replica online; both are stopped afterwards."""
    for name in ("primary", "replica"):
        (directory / name).mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        primary = stack.enter_context(
            RedisServer(directory / "primary", NO_PERSISTENCE, binary="redis-server")
        )
        replica = stack.enter_context(
            RedisServer(
                directory / "replica",
                (*NO_PERSISTENCE, "--replicaof", "127.0.0.1", str(primary.port)),
                binary="redis-server",
            )
        )
        pair = ReplicatedRedis(primary.port, replica.port)
        wait_until_online(pair)
        yield pair


def _online_replicas(client: redis.Redis) -> int:
    info: dict[str, object] = client.info("replication")
    return sum(
        1
        for key, value in info.items()
        if key.startswith("slave") and isinstance(value, dict) and value.get("state") == "online"
    )


def wait_until_online(pair: ReplicatedRedis, timeout: float = LINK_TIMEOUT) -> None:
    """Poll until the primary counts the replica online and the replica's link is up."""
    deadline = time.monotonic() + timeout
    with redis.Redis(port=pair.primary) as primary, pair.replica_client() as replica:
        while True:
            link: dict[str, object] = replica.info("replication")
            if _online_replicas(primary) >= 1 and link.get("master_link_status") == "up":
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"replica {pair.replica} never came online on {pair.primary}")
            time.sleep(0.05)


def _pid(port: int) -> int:
    with redis.Redis(port=port) as client:
        info: dict[str, object] = client.info("server")
    pid = info["process_id"]
    assert isinstance(pid, int)
    return pid


@contextmanager
def stalled(pair: ReplicatedRedis) -> Iterator[None]:
    """The replica stopped (SIGSTOP) for the duration, then continued: the primary keeps counting it
    connected, so a WAIT times out instead of answering at once."""
    pid = _pid(pair.replica)
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


@contextmanager
def detached(pair: ReplicatedRedis) -> Iterator[None]:
    """The replica detached from its primary (`REPLICAOF NO ONE`) for the duration, then attached again
    and waited for until it is online."""
    with pair.replica_client() as replica:
        replica.replicaof("NO", "ONE")
        try:
            yield
        finally:
            replica.replicaof("127.0.0.1", pair.primary)
    wait_until_online(pair)
