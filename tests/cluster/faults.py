"""A seeded fault schedule and the injector that plays it while the workload runs.

The schedule is drawn from the seed alone, so a seed replays the same faults at the same moments on the
same hosts: partitions of one worker host from Redis, SQL or the broker (its outbound packets, inbound
packets, or both, dropped in its namespace), a Redis primary failed over while claims are in flight (its
replica takes over by `CLUSTER FAILOVER`, or the primary is killed and started again later as a replica),
a primary cut from its replica and then killed (a lagged failover: the replica that takes over missed
what the primary acknowledged meanwhile), a worker paused (SIGSTOP) longer than the finalize lease, and a
whole host killed (every process in its namespace) and brought back. `KINDS` names the sets `--faults`
picks from; the default `all` leaves the lagged failover out, so its recorded seeds replay the same
schedule (`everything` adds it; docs/reliability.md). At most one
fault touches a worker host at a time; every fault ends by `until`, so the run can finish.
"""

from __future__ import annotations

import random
import signal
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import redis

from tests.cluster.history import History
from tests.cluster.network import Host, cut, heal, iptables, kill_namespace
from tests.cluster.services import REDIS_PORTS, Service, redis_address

PARTITIONS = ("partition-redis", "partition-sql", "partition-broker")
KINDS: dict[str, tuple[str, ...]] = {
    "none": (),
    "partitions": PARTITIONS,
    "failover": ("failover",),
    "all": (*PARTITIONS, "failover", "pause", "kill-host"),
    # A primary cut from its replica, then killed: without ELS_REDIS_MIN_REPLICAS, Redis can lose a batch's
    # completion; with it, nothing the cut primary took was acknowledged (docs/reliability.md).
    "lagged": ("lagged-failover",),
    "everything": (*PARTITIONS, "failover", "lagged-failover", "pause", "kill-host"),
    "lost-completion": (),  # tests/cluster/directed.py, played by progress instead of a schedule
}


@dataclass(frozen=True)
class Fault:
    """One fault: what, on which worker host (partitions, pause, kill), from `at` to `until` seconds."""

    kind: str
    at: float
    until: float
    host: str = ""
    direction: str = ""
    how: str = ""  # failover: "command" or "kill"
    batch: int | None = None  # failover: the batch (by plan order) whose primary fails over

    def describe(self) -> dict[str, object]:
        """The fault as plain data for the history."""
        fields = {
            key: value for key, value in self.__dict__.items() if value not in ("", None) and key != "kind"
        }
        return {"fault": self.kind, **fields}


def plan_faults(
    seed: int, kinds: tuple[str, ...], hosts: list[str], *, lease: float, until: float, batches: int = 1
) -> list[Fault]:
    """The schedule for `seed`: each kind at least once, one worker host at a time, all over by `until`."""
    rng = random.Random(seed)
    # Each kind once in a seeded order, then a few more at random: only those may fall past `until`.
    order = rng.sample(kinds, len(kinds))
    order += [rng.choice(kinds) for _ in range(len(kinds) // 2)] if kinds else []
    faults: list[Fault] = []
    busy: dict[str, float] = dict.fromkeys(hosts, 0.0)
    redis_busy = 0.0
    moment = 3.0
    for kind in order:
        moment += rng.uniform(1.0, 4.0)
        if kind == "failover":
            start = max(moment, redis_busy)
            how = rng.choice(("command", "kill"))
            faults.append(Fault(kind, start, start + 8.0, how=how, batch=rng.randrange(batches)))
            redis_busy = start + 10.0
            continue
        if kind == "lagged-failover":
            # The primary is cut from its replica first, so what it acknowledges meanwhile is never
            # replicated; then it is killed and the replica that missed those writes takes over.
            start, batch = max(moment, redis_busy), rng.randrange(batches)
            faults.append(Fault(kind, start, start + 6.0, batch=batch))
            faults.append(Fault("failover", start + 3.0, start + 11.0, how="kill", batch=batch))
            redis_busy = start + 13.0
            continue
        host = rng.choice(hosts)
        start = max(moment, busy[host])
        length = {"pause": lease + rng.uniform(2.0, 4.0), "kill-host": rng.uniform(3.0, 6.0)}.get(
            kind, rng.uniform(3.0, 8.0)
        )
        direction = rng.choice(("out", "in", "both")) if kind in PARTITIONS else ""
        faults.append(Fault(kind, start, start + length, host=host, direction=direction))
        busy[host] = start + length + 1.0
    # Rounded, so the schedule reads the same in the history and replays to the hundredth of a second.
    rounded = [replace(fault, at=round(fault.at, 2), until=round(fault.until, 2)) for fault in faults]
    return [fault for fault in sorted(rounded, key=lambda f: f.at) if fault.until <= until]


@dataclass
class Injector:
    """Plays a schedule on the run's hosts: `tick(elapsed)` starts and ends the faults that are due."""

    faults: list[Fault]
    history: History
    hosts: dict[str, Host]
    workers: dict[str, Service]
    redis_nodes: dict[int, Service]
    peers: dict[str, str]  # partition kind -> the address it cuts the host from
    batch_keys: list[str]  # a key in each planned batch's hash slot, in plan order
    restart: Callable[[str], None]  # starts a worker host again after a kill
    started: list[Fault] = field(default_factory=list)
    ended: list[Fault] = field(default_factory=list)
    _killed_node: int | None = None

    def tick(self, elapsed: float) -> None:
        """Start every fault now due, end every fault now over."""
        for fault in self.faults:
            if fault not in self.started and elapsed >= fault.at:
                self.started.append(fault)
                detail = self.start(fault)
                self.history.record("fault", **fault.describe(), **detail)
            if fault in self.started and fault not in self.ended and elapsed >= fault.until:
                self.ended.append(fault)
                self.end(fault)
                self.history.record("heal", **fault.describe())

    def heal_all(self) -> None:
        """End every fault still on (the run's end, or a failure)."""
        for fault in self.started:
            if fault not in self.ended:
                self.ended.append(fault)
                self.end(fault)

    def start(self, fault: Fault) -> dict[str, object]:
        """Inject one fault; returns what it touched."""
        if fault.kind in PARTITIONS:
            cut(self.hosts[fault.host], self.peers[fault.kind], fault.direction)
            return {"peer": self.peers[fault.kind]}
        if fault.kind == "pause":
            self.workers[fault.host].signal(signal.SIGSTOP)
            return {}
        if fault.kind == "kill-host":
            return {"processes_killed": kill_namespace(self.hosts[fault.host].namespace)}
        if fault.kind == "lagged-failover":
            return self.split_replica(fault)
        return self.fail_over(fault)

    def end(self, fault: Fault) -> None:
        """Undo one fault."""
        if fault.kind in PARTITIONS:
            heal(self.hosts[fault.host])
        elif fault.kind == "pause":
            self.workers[fault.host].signal(signal.SIGCONT)
        elif fault.kind == "kill-host":
            self.restart(fault.host)
        elif fault.kind == "lagged-failover":
            heal(self.hosts["redis"])
        elif self._killed_node is not None:
            # The old primary comes back and rejoins as a replica of the node that replaced it.
            self.redis_nodes[self._killed_node].start()
            self._killed_node = None

    def fail_over(self, fault: Fault) -> dict[str, object]:
        """Replace the primary holding the fault's batch by its replica, as `fault.how` says."""
        host = self.hosts["redis"]
        primary, replica = primary_and_replica(host, self.batch_keys[fault.batch or 0])
        detail: dict[str, object] = {"primary": primary, "replica": replica}
        if fault.how == "command":
            with redis.Redis(host=redis_address(host, replica), port=replica, socket_timeout=5) as node:
                node.execute_command("CLUSTER", "FAILOVER")
        else:
            detail["unreplicated_bytes"] = replication_lag(host, primary, replica)
            self.redis_nodes[primary].kill()
            self._killed_node = primary
        return detail

    def split_replica(self, fault: Fault) -> dict[str, object]:
        """Drop every packet between the primary holding the fault's batch and its replica."""
        host = self.hosts["redis"]
        primary, replica = primary_and_replica(host, self.batch_keys[fault.batch or 0])
        ends = (redis_address(host, primary), redis_address(host, replica))
        # The nodes share a namespace, so their packets to each other only pass OUTPUT.
        for source, destination in (ends, ends[::-1]):
            iptables(host, "-A", "OUTPUT", "-s", source, "-d", destination, "-j", "DROP")
        return {"primary": primary, "replica": replica}


def replication_lag(host: Host, primary: int, replica: int) -> int | None:
    """Bytes the primary has written that its replica has not received (None when one does not say)."""
    offsets: list[int] = []
    for port in (primary, replica):
        try:
            with redis.Redis(host=redis_address(host, port), port=port, socket_timeout=2) as node:
                offsets.append(int(node.info("replication").get("master_repl_offset", 0)))
        except redis.RedisError:
            return None
    return offsets[0] - offsets[1]


def primary_and_replica(host: Host, key: str) -> tuple[int, int]:
    """The port of the primary serving `key` and of a replica of it, as the cluster sees them now."""
    for port in REDIS_PORTS:
        address = redis_address(host, port)
        try:
            with redis.Redis(host=address, port=port, socket_timeout=2, decode_responses=True) as node:
                slot = int(node.execute_command("CLUSTER", "KEYSLOT", key))
                shards = node.execute_command("CLUSTER", "SLOTS")
        except redis.RedisError:
            continue
        for shard in shards:
            if int(shard[0]) <= slot <= int(shard[1]) and len(shard) > 3:
                return int(shard[2][1]), int(shard[3][1])
    raise RuntimeError(f"no node answered CLUSTER SLOTS with a replica for {key}")
