"""`els batch status` prints the counts, `els batch slots` every slot a page at a time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import cli_environment, els

pytestmark = pytest.mark.slow


def test_status_counts_and_slots_paged_through(redis_url: str, key_prefix: str, tmp_path: Path) -> None:
    env = cli_environment(redis_url, key_prefix, tmp_path)
    assert els("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    created = els("batch", "create", "--expected", "3", "--owner", "alice", env=env, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    batch_id = json.loads(created.stdout)["batch_id"]

    opened = els("batch", "status", batch_id, env=env, cwd=tmp_path)
    assert opened.returncode == 0, opened.stderr
    counts = json.loads(opened.stdout)
    assert (counts["state"], counts["expected"], counts["assigned"], counts["missing"]) == ("open", 3, 0, 0)

    assert els("batch", "close", batch_id, env=env, cwd=tmp_path).returncode == 0
    closed = json.loads(els("batch", "status", batch_id, env=env, cwd=tmp_path).stdout)
    assert closed["missing"] == 3

    listed = els("batch", "slots", batch_id, "--limit", "2", env=env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    slots = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(slot["essay_id"], slot["position"], slot["outcome"]) for slot in slots] == [
        (f"{batch_id}-{n + 1:03d}", n, "missing") for n in range(3)
    ]
    refused = els("batch", "slots", batch_id, "--limit", "0", env=env, cwd=tmp_path)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
