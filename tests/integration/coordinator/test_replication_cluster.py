"""With `min_replicas`, steps through `RedisCluster` wait for the replica of their own slot's primary, find
a new primary after a failover, and a primary whose replica stalls holds back only its own shards.

Starts its own cluster of three primaries with a replica each (six `redis-server --cluster-enabled yes`
in a temp dir), so the shared Redis is untouched; stops them afterwards.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
import redis
from redis.cluster import RedisCluster
from redis.crc import key_slot

from coordinator import BatchState, Coordinator, Outcome
from els.settings import Settings
from tests.integration.coordinator.support import (
    NOW,
    cluster_ports,
    private_redis,
    redis_server_available,
    register,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not redis_server_available(), reason="redis-server not on PATH"),
]

SETTLE_TIMEOUT = 30.0


def node(port: int) -> redis.Redis:
    """A one-connection client of a node, so READONLY (reads on a replica) sticks."""
    return redis.Redis(port=port, single_connection_client=True)


def settled(ports: list[int], deadline: float) -> None:
    """Until every node sees the cluster ok with half its nodes replicas, and every replica's link to its
    primary is up."""
    for port in ports:
        with node(port) as client:
            while True:
                info: dict[str, object] = client.info("replication")
                linked = info.get("role") == "master" or info.get("master_link_status") == "up"
                state: dict[str, object] = client.cluster("info")
                known: dict[str, dict[str, object]] = client.cluster("nodes")
                replicas = sum("slave" in str(entry.get("flags")) for entry in known.values())
                if linked and state.get("cluster_state") == "ok" and replicas == len(ports) // 2:
                    break
                assert time.monotonic() < deadline, f"node {port} never settled"
                time.sleep(0.1)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[int]]:
    """Three primaries with a replica each, of the module's own; yields their ports."""
    ports = cluster_ports(6)
    with ExitStack() as stack:
        for port in ports:
            directory = tmp_path_factory.mktemp(f"node{port}")
            stack.enter_context(
                private_redis(
                    directory,
                    "--cluster-enabled", "yes",
                    "--cluster-config-file", str(directory / "nodes.conf"),
                    port=port,
                )
            )  # fmt: skip
        subprocess.run(
            [
                "redis-cli", "--cluster", "create", *(f"127.0.0.1:{port}" for port in ports),
                "--cluster-replicas", "1", "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )  # fmt: skip
        settled(ports, time.monotonic() + SETTLE_TIMEOUT)
        yield ports


@pytest.fixture
def cluster_client(cluster: list[int]) -> Iterator[RedisCluster]:
    client = RedisCluster(host="127.0.0.1", port=cluster[0])
    yield client
    client.close()


def coordinator_on(client: RedisCluster, prefix: str, timeout_ms: int = 3000) -> Coordinator:
    settings = Settings(key_prefix=prefix, redis_min_replicas=1, redis_replica_timeout_ms=timeout_ms)
    return Coordinator.from_settings(settings, client)


def holders(cluster: list[int], key: str) -> tuple[int, ...]:
    """The ports of the primary serving `key`'s slot, then of its replicas, as the cluster says now."""
    with RedisCluster(host="127.0.0.1", port=cluster[0]) as fresh:
        nodes = fresh.nodes_manager.slots_cache[key_slot(key.encode())]
        return tuple(int(holder.port) for holder in nodes)


def primary_and_replica(cluster: list[int], key: str) -> tuple[int, int]:
    """The ports of the primary serving `key`'s slot and of its one replica."""
    ports = holders(cluster, key)
    assert len(ports) == 2, ports
    return ports[0], ports[1]


def read_on_replica(port: int, key: str, *fields: str) -> list[bytes | None]:
    with node(port) as replica:
        replica.execute_command("READONLY")
        held: list[bytes | None] = replica.hmget(key, list(fields))
        return held


def test_each_step_waits_for_the_replica_of_its_own_primary(
    cluster: list[int], cluster_client: RedisCluster
) -> None:
    coordinator = coordinator_on(cluster_client, "replcluster")
    ids = [f"b{n}" for n in range(12)]
    for batch_id in ids:
        register(coordinator, batch_id, 2)
        assert coordinator.claim(batch_id, "s1", f"{batch_id}-h1", NOW).outcome is Outcome.ASSIGNED
    primaries = set()
    for batch_id in ids:
        key = coordinator.config.keys.batch(batch_id).hash
        primary, replica = primary_and_replica(cluster, key)
        primaries.add(primary)
        # Read on that replica straight after the answers: each was given once it held the claim.
        assert read_on_replica(replica, key, "state", "assigned") == [b"open", b"1"]
    assert len(primaries) > 1


def test_a_step_after_a_failover_reaches_the_new_primary_and_waits_for_its_replica(
    cluster: list[int], cluster_client: RedisCluster
) -> None:
    coordinator = coordinator_on(cluster_client, "replfailover")
    register(coordinator, "b1", 2)
    key = coordinator.config.keys.batch("b1").hash
    old_primary, old_replica = primary_and_replica(cluster, key)
    with node(old_replica) as promoted:
        promoted.execute_command("CLUSTER", "FAILOVER")
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while holders(cluster, key) != (old_replica, old_primary):
        assert time.monotonic() < deadline, "the failover never completed"
        time.sleep(0.1)
    settled(cluster, deadline)
    # The client still maps the slot to the old primary: MOVED, the map is read again, the step is sent
    # to the new primary (which never loaded the script) and waits for the old one, now its replica.
    result = coordinator.claim("b1", "s1", "h1", NOW)
    assert result.outcome is Outcome.ASSIGNED and not result.replayed
    assert read_on_replica(old_primary, key, "assigned") == [b"1"]


def test_a_stalled_replica_holds_back_only_the_shards_of_its_primary(
    cluster: list[int], cluster_client: RedisCluster, caplog: pytest.LogCaptureFixture
) -> None:
    patient = coordinator_on(cluster_client, "replstall")
    impatient = coordinator_on(cluster_client, "replstall", timeout_ms=200)
    ids = [f"due-{n}" for n in range(16)]
    for batch_id in ids:
        register(patient, batch_id, 1, deadline_ms=NOW + 1)
    stalled_primary, stalled_replica = primary_and_replica(cluster, patient.config.keys.batch(ids[0]).hash)
    behind = {
        batch_id
        for batch_id in ids
        if primary_and_replica(cluster, patient.config.keys.batch(batch_id).hash)[0] == stalled_primary
    }
    assert 0 < len(behind) < len(ids)
    with node(stalled_replica) as replica:
        pid = replica.info("server")["process_id"]
    os.kill(pid, signal.SIGSTOP)
    try:
        with caplog.at_level(logging.WARNING, logger="coordinator.walks"):
            expired = impatient.expire_due(NOW + 2, 100)
    finally:
        os.kill(pid, signal.SIGCONT)
    assert {batch.batch_id for batch in expired} == set(ids) - behind
    # One call waited on the stalled replica; the primary's other shards were not called at all.
    assert sum("expiry skips shard" in record.message for record in caplog.records) == 1
    unacknowledged = {batch_id for batch_id in behind if state_of(patient, batch_id) is BatchState.EXPIRED}
    assert unacknowledged
    again = patient.expire_due(NOW + 2, 100)
    assert {batch.batch_id for batch in again} == behind - unacknowledged
    # What the unconfirmed call expired is handed out by the re-kick, with the rest.
    rekicked = patient.rekick_stuck(NOW + 10_000, 5_000, 100)
    assert {batch.batch_id for batch in rekicked} == set(ids)


def state_of(coordinator: Coordinator, batch_id: str) -> BatchState:
    status = coordinator.status(batch_id)
    assert status is not None
    return status.state
