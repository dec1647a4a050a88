"""The pipeline benchmark runs end to end and ends with one JSON object (figures are not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_pipeline_bench_prints_its_figures_as_json(redis_url: str) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "pipeline.py"), "--essays", "10", "--redis-url", redis_url],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["essays"] == 10
    assert figures["database"] == "sqlite"
    assert {
        *("noop_tasks_per_s", "ingest_essays_per_s", "whole_batch_essays_per_s", "plain_chord_essays_per_s"),
        *("ingest_ratio", "batch_vs_chord_ratio"),
    } <= set(figures)
