"""On a real three-master Redis Cluster every script runs without CROSSSLOT, and the shard indexes spread.

Starts its own cluster (three `redis-server --cluster-enabled yes` processes in a temp dir), so the
shared Redis is untouched; stops them afterwards.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
import redis
from celery._state import get_current_app
from fastapi.testclient import TestClient
from redis.cluster import RedisCluster

from api.app import create_app as create_api
from coordinator import Coordinator, Outcome
from db.migrate import upgrade
from els.settings import Settings
from tests.e2e.api.conftest import ALICE, ALICE_TOKEN, digest
from tests.integration.coordinator.support import (
    HOUR_MS,
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


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[int]]:
    """A three-master cluster of the module's own; yields its ports."""
    ports = cluster_ports(3)
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
            ["redis-cli", "--cluster", "create", *(f"127.0.0.1:{port}" for port in ports), "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        deadline = time.monotonic() + 30
        for port in ports:
            node = redis.Redis(port=port, decode_responses=True)
            while node.cluster("info").get("cluster_state") != "ok":
                assert time.monotonic() < deadline, "cluster never reached cluster_state:ok"
                time.sleep(0.1)
            node.close()
        yield ports


@pytest.fixture
def cluster_client(cluster: list[int]) -> Iterator[RedisCluster]:
    client = RedisCluster(host="127.0.0.1", port=cluster[0])
    yield client
    client.close()


def test_every_script_runs_on_a_cluster_and_the_indexes_spread_over_nodes(
    cluster: list[int], cluster_client: RedisCluster
) -> None:
    settings = Settings(key_prefix="elscluster")
    coordinator = Coordinator.from_settings(settings, cluster_client)
    ids = [f"b{n}" for n in range(24)]
    coordinator.claim("b0", "early", "early-content", NOW)  # parked before registration
    for batch_id in ids:
        register(coordinator, batch_id, 2, deadline_ms=NOW + HOUR_MS)
    status = coordinator.status("b0")
    assert status is not None and status.assigned == 1
    first = coordinator.slot_page("b0", None, 1)
    assert first is not None and first.next_cursor is not None
    rest = coordinator.slot_page("b0", first.next_cursor, 10)
    assert rest is not None and rest.next_cursor is None
    assert tuple(line.essay_id for line in first.slots + rest.slots) == status.slots
    assert coordinator.claim("b0", "late", "early-content", NOW).outcome is Outcome.DUPLICATE
    assert coordinator.fail("b0", "broken", "BAD", "x", NOW).sealed

    # NOSCRIPT recovery on every node.
    for port in cluster:
        with redis.Redis(port=port) as node:
            node.script_flush()
    assert coordinator.claim("b1", "s1", "h1", NOW).outcome is Outcome.ASSIGNED

    listed: list[str] = []
    cursor: str | None = None
    while True:
        page = coordinator.list_active_batches("alice", cursor, 5)
        listed.extend(summary.batch_id for summary in page.batches)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sorted(listed) == sorted(ids)

    ticket = coordinator.begin_finalize("b0", NOW, 60_000)
    assert ticket.acquired and ticket.token is not None
    assert [s.batch_id for s in coordinator.rekick_stuck(NOW + 60_001, 60_000, 10)] == ["b0"]
    assert coordinator.complete_finalize("b0", ticket.token, NOW + 1)
    assert coordinator.receive("b2", ["in-time"], NOW).received  # holds b2's expiry
    expired = coordinator.expire_due(NOW + HOUR_MS, 100)
    assert sorted(batch.batch_id for batch in expired) == sorted(set(ids[1:]) - {"b2"})
    assert coordinator.claim("b2", "in-time", "h2", NOW + HOUR_MS).outcome is Outcome.ASSIGNED

    # The shards' index keys live on more than one node (each node is asked about its own keys).
    holding = set()
    for port in cluster:
        with redis.Redis(port=port) as node:
            if any(node.scan_iter(match="elscluster:*:stuck")) and any(
                node.scan_iter(match="elscluster:*:active")
            ):
                holding.add(port)
    assert len(holding) > 1
    assert coordinator.eviction_warning() is None


def test_the_api_registers_and_reads_batches_on_a_cluster(cluster: list[int], sqlite_url: str) -> None:
    upgrade(sqlite_url)
    settings = Settings(
        redis_cluster=True,
        redis_url=f"redis://127.0.0.1:{cluster[2]}/0",
        database_url=sqlite_url,
        key_prefix="elsapicluster",
        api_tokens={digest(ALICE_TOKEN): "alice"},
    )
    previous = get_current_app()
    try:
        with TestClient(create_api(settings)) as client:
            batch_ids = [f"cluster-{n}" for n in range(6)]
            for batch_id in batch_ids:
                created = client.post(
                    "/v1/batches", json={"batch_id": batch_id, "expected_count": 2}, headers=ALICE
                )
                assert created.status_code == 201, created.text
            for batch_id in batch_ids:
                status = client.get(f"/v1/batches/{batch_id}", headers=ALICE)
                assert status.status_code == 200, status.text
                assert status.json()["state"] == "open"
    finally:
        # The API's lifespan made its own Celery app current.
        previous.set_current()
