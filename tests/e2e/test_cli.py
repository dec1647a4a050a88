"""The `els` command line as an operator runs it: a real process, real Redis, a SQLite file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support.cli import els

pytestmark = pytest.mark.slow


@pytest.fixture
def cli_env(redis_url: str, key_prefix: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "ELS_REDIS_URL": redis_url,
        "ELS_KEY_PREFIX": key_prefix,
        "ELS_QUEUE": f"q-{key_prefix}",
        "ELS_DATABASE_URL": f"sqlite:///{tmp_path / 'els.db'}",
    }


def test_demo_runs_the_sample_batch_to_a_report(cli_env: dict[str, str], tmp_path: Path) -> None:
    result = els("demo", "--json", env=cli_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["counts"] == {
        "expected": 13,
        "analysed": 12,
        "failed": 1,
        "analysis_failed": 0,
        "missing": 0,
        "excess": 0,
        "duplicates": 1,
    }
    failed = sorted(row["code"] for row in report["essays"] if row["status"] == "failed")
    assert failed == ["EMPTY_CONTENT"]
    assert "refused class_photo.png: UNSUPPORTED_TYPE" in result.stderr


def test_db_upgrade_then_purge_dry_run(cli_env: dict[str, str], tmp_path: Path) -> None:
    upgraded = els("db", "upgrade", env=cli_env, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert els("db", "current", env=cli_env, cwd=tmp_path).stdout.strip() != "(empty)"
    purged = els("purge", "--older-than", "7", "--dry-run", env=cli_env, cwd=tmp_path)
    assert purged.returncode == 0, purged.stderr
    assert "would remove 0 batches" in purged.stderr


def test_unknown_batch_is_a_clear_error_with_its_code(cli_env: dict[str, str], tmp_path: Path) -> None:
    result = els("batch", "status", "no-such-batch", "--owner", "teacher-1", env=cli_env, cwd=tmp_path)
    assert result.returncode == 1
    assert "[NOT_FOUND]" in result.stderr
