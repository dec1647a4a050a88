"""Migrations as an operator runs them: `els db upgrade|current|history|downgrade` and plain `alembic`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from db.migrate import head

ROOT = Path(__file__).resolve().parents[2]


def run(*command: str, database: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ELS_DATABASE_URL": f"sqlite:///{database}"}
    return subprocess.run(
        [sys.executable, "-m", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_els_db_commands_walk_the_revisions(tmp_path: Path) -> None:
    database = tmp_path / "els.db"
    assert run("cli", "db", "current", database=database).stdout.strip() == "(empty)"
    assert run("cli", "db", "upgrade", database=database).returncode == 0
    assert run("cli", "db", "current", database=database).stdout.strip() == head()
    history = run("cli", "db", "history", database=database).stdout.splitlines()
    assert history[0].startswith(f"{head()}: ") and history[-1].startswith("0001")
    previous = history[1].split(":")[0]
    down = run("cli", "db", "downgrade", previous, database=database)
    assert down.returncode == 0, down.stderr
    assert run("cli", "db", "current", database=database).stdout.strip() == previous


def test_plain_alembic_finds_its_config_and_the_database_from_the_environment(tmp_path: Path) -> None:
    database = tmp_path / "els.db"
    upgraded = run("alembic", "upgrade", "head", database=database)
    assert upgraded.returncode == 0, upgraded.stderr
    current = run("alembic", "current", database=database)
    assert current.returncode == 0, current.stderr
    assert f"{head()} (head)" in current.stdout
