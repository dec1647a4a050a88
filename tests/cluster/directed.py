"""A directed fault: Redis loses a batch's completion after SQL recorded it.

Played by progress, not by the clock, so it lands every time: when the first batch has all but two of
its slots taken, its primary is cut from its replica (iptables between the two nodes' addresses); once
the client sees the batch DONE on that primary, the primary is killed, and the replica, which missed the
last claims, the seal and DONE, takes over. The old primary starts again 8 s later as a replica.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis

from coordinator import BatchState
from services.runtime import Runtime
from tests.cluster.faults import primary_and_replica, replication_lag
from tests.cluster.history import History
from tests.cluster.network import Host, heal, iptables
from tests.cluster.services import Service, redis_address

RESTART_AFTER = 8.0


@dataclass
class LostCompletion:
    """The directed fault's steps, advanced by `tick()`; `done` once the old primary is back."""

    runtime: Runtime
    history: History
    redis_host: Host
    redis_nodes: dict[int, Service]
    batch_id: str
    batch_key: str
    expected: int
    step: str = "waiting"  # waiting -> split -> killed -> done
    primary: int = 0
    replica: int = 0
    killed_at: float = 0.0

    @property
    def done(self) -> bool:
        """Whether every step has been played."""
        return self.step == "done"

    def tick(self) -> None:
        """Take the next step when its moment has come."""
        try:
            progress = self.runtime.coordinator.progress(self.batch_id)
        except redis.RedisError:
            progress = None
        if self.step == "waiting" and progress is not None and progress.assigned >= self.expected - 2:
            self.primary, self.replica = primary_and_replica(self.redis_host, self.batch_key)
            ends = (
                redis_address(self.redis_host, self.primary),
                redis_address(self.redis_host, self.replica),
            )
            for source, destination in (ends, ends[::-1]):
                iptables(self.redis_host, "-A", "OUTPUT", "-s", source, "-d", destination, "-j", "DROP")
            self.step = "split"
            self.history.record(
                "fault",
                fault="lost-completion",
                step="split",
                batch=self.batch_id,
                assigned=progress.assigned,
            )
        elif self.step == "split" and progress is not None and progress.state is BatchState.DONE:
            lag = replication_lag(self.redis_host, self.primary, self.replica)
            self.redis_nodes[self.primary].kill()
            heal(self.redis_host)
            self.killed_at = time.monotonic()
            self.step = "killed"
            self.history.record(
                "fault",
                fault="lost-completion",
                step="kill",
                batch=self.batch_id,
                primary=self.primary,
                replica=self.replica,
                unreplicated_bytes=lag,
            )
        elif self.step == "killed" and time.monotonic() - self.killed_at >= RESTART_AFTER:
            self.redis_nodes[self.primary].start()
            self.step = "done"
            self.history.record("heal", fault="lost-completion", batch=self.batch_id, primary=self.primary)
