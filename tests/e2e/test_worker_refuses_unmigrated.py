"""A worker started on a database behind the Alembic head exits at once with one line saying what to run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from els.settings import Settings
from tests.support.workers import ROOT, worker_environment


def test_a_worker_on_an_unmigrated_database_refuses_to_start(
    worker_settings: Settings, tmp_path: Path
) -> None:
    empty = worker_settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'empty.db'}"})
    finished = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "worker", "worker", "--pool=solo", "--loglevel=WARNING"],
        cwd=ROOT,
        env=worker_environment(empty),
        capture_output=True,
        timeout=120,
        check=False,
    )
    output = (finished.stdout + finished.stderr).decode()
    assert finished.returncode == 2, output
    refusals = [line for line in output.splitlines() if "the worker cannot start" in line]
    assert len(refusals) == 1, output
    assert "never migrated" in refusals[0] and "els db upgrade" in refusals[0]
    assert "Traceback" not in output
