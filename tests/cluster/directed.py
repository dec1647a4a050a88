"""A directed fault: the primary of a batch about to complete is cut from its replica, then killed.

Played by progress, not by the clock, so it lands every time: when the first batch has all but two of
its slots taken, its primary is cut from its replica (iptables between the two nodes' addresses); once
the client sees the batch DONE on that primary, or `HOLD` seconds after the cut, the primary is killed,
and the replica, which missed everything the primary took meanwhile (the last claims, the seal, DONE),
takes over. The old primary starts again 8 s later as a replica.

Without `ELS_REDIS_MIN_REPLICAS` the primary acknowledges those steps and SQL records them, so Redis
loses a completion SQL reported (docs/reliability.md). With it, no step the cut primary took is
acknowledged, the batch never reads DONE before the kill, and the steps are taken again on the new
primary once it has a replica.
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
HOLD = 6.0  # the cut primary is killed this long after the cut, if the batch has not read DONE by then


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
    split_at: float = 0.0
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
            self.split_at = time.monotonic()
            self.history.record(
                "fault",
                fault="lost-completion",
                step="split",
                batch=self.batch_id,
                assigned=progress.assigned,
            )
        elif self.step == "split" and (
            (progress is not None and progress.state is BatchState.DONE)
            or time.monotonic() - self.split_at >= HOLD
        ):
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
                # What the cut primary held when it died: DONE only if it acknowledged the completion.
                state=None if progress is None else progress.state.value,
                assigned=None if progress is None else progress.assigned,
            )
        elif self.step == "killed" and time.monotonic() - self.killed_at >= RESTART_AFTER:
            self.redis_nodes[self.primary].start()
            self.step = "done"
            self.history.record("heal", fault="lost-completion", batch=self.batch_id, primary=self.primary)
