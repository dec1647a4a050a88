"""The expiry benchmark runs on its private redis-server and ends with one JSON object (figures are not
asserted, only that both walks expired everything and the budget split the work)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_expiry_bench_prints_its_figures_as_json() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "expiry.py"), "--batches", "8", "--slots", "600"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert (figures["batches"], figures["slots_per_batch"]) == (8, 600)
    assert {"els", "one_call_per_shard", "ratio"} <= set(figures)
    assert figures["els"]["longest_script_ms"] > 0
