"""The expiry and relay benchmarks run end to end and end with one JSON object (figures are not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def last_json(*command: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, *command], capture_output=True, text=True, timeout=240, check=False, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    figures: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def test_expiry_bench_prints_its_figures_as_json() -> None:
    figures = last_json(str(ROOT / "bench" / "expiry.py"), "--batches", "8", "--slots", "600")
    assert (figures["batches"], figures["slots_per_batch"]) == (8, 600)
    assert {"els", "one_call_per_shard", "ratio"} <= set(figures)
    els = figures["els"]
    assert isinstance(els, dict) and els["longest_script_ms"] > 0


def test_relay_bench_prints_its_figures_as_json(redis_url: str) -> None:
    figures = last_json(str(ROOT / "bench" / "relay.py"), "--events", "150", "--redis-url", redis_url)
    assert figures["events"] == 150
    assert {"kombu_events_per_s", "relay_events_per_s", "ratio"} <= set(figures)


def test_analysis_accuracy_prints_its_figures_as_json() -> None:
    figures = last_json(str(ROOT / "bench" / "analysis_accuracy.py"))
    assert figures["passages"] == 50
    assert figures["syllables_agree_with_cmudict"] == 1.0  # every word CMUdict knows is counted from it


def test_intake_bench_prints_its_figures_as_json(redis_url: str) -> None:
    figures = last_json(str(ROOT / "bench" / "intake.py"), "--uploads", "40", "--redis-url", redis_url)
    assert (figures["uploads"], figures["concurrency"], figures["essay_bytes"]) == (40, 16, 10_000)
    assert {"bare_requests_per_s", "uploads_per_s", "ratio"} <= set(figures)
