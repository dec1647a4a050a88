"""Only a `celery worker` process counts into the shared metrics directory: beat, Flower and healthchecks
import the same app module and must leave nothing behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from worker.multiprocess import celery_subcommand

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("argv", "subcommand"),
    [
        (["celery", "-A", "worker", "worker", "-Q", "els"], "worker"),
        (["/x/celery/__main__.py", "--app=worker", "worker", "--pool=prefork"], "worker"),
        (["celery", "--broker", "redis://b", "inspect", "ping", "-d", "worker@h"], "inspect"),
        (["celery", "-A", "worker", "beat"], "beat"),
        (["celery", "-A", "worker", "flower"], "flower"),
        (["celery"], None),
    ],
)
def test_the_celery_subcommand_is_read_past_its_options(argv: list[str], subcommand: str | None) -> None:
    assert celery_subcommand(argv) == subcommand


@pytest.mark.parametrize(("subcommand", "directories"), [("inspect", 0), ("worker", 1)])
def test_only_a_worker_process_makes_a_metrics_directory(
    subcommand: str, directories: int, tmp_path: Path
) -> None:
    script = f"import sys; sys.argv = ['celery', '-A', 'worker', {subcommand!r}]; import worker"
    env = {**os.environ, "TMPDIR": str(tmp_path), "ELS_WORKER_METRICS_PORT": "9808", "PYTHONPATH": str(ROOT)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, check=True, timeout=120)
    assert len(list(tmp_path.glob("els-worker-metrics-*"))) == directories
