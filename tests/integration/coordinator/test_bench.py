"""The claim benchmark still runs and ends with one JSON object (its figures present, not asserted)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "coordinator.py"


@pytest.mark.slow
def test_benchmark_prints_its_figures_as_json_on_the_last_line(redis_url: str) -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH), "--claims", "600", "--redis-url", redis_url],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert {"ratio", "claim_per_s", "claim_p50_ms", "claim_p99_ms", "floor_per_s"} <= figures.keys()
    assert figures["claims"] == 600 and figures["ratio"] > 0
    assert figures["memory_per_claimed_slot_bytes"] > 0
    if shutil.which("redis-server"):  # the WAIT figures, from a primary and replica the bench starts
        assert figures["wait_claim_ratio"] > 0 and figures["plain_claim_per_s"] > 0
