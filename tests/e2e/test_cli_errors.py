"""Every `els` command given bad input answers one line that says what to fix, with its exit code.

Exit codes: 0 ok, 1 failure, 2 usage or configuration. Never a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from db.migrate import upgrade

pytestmark = pytest.mark.slow


def els(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "cli", *args]
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def cli_env(redis_url: str, key_prefix: str, tmp_path: Path) -> dict[str, str]:
    upgrade(f"sqlite:///{tmp_path / 'els.db'}")
    return {
        **os.environ,
        "ELS_REDIS_URL": redis_url,
        "ELS_KEY_PREFIX": key_prefix,
        "ELS_QUEUE": f"q-{key_prefix}",
        "ELS_DATABASE_URL": f"sqlite:///{tmp_path / 'els.db'}",
    }


CASES: list[tuple[tuple[str, ...], dict[str, str], int, str]] = [
    (("batch", "submit", "b1", "/no/such/essay.txt"), {}, 2, "does not exist"),
    (("batch", "status"), {}, 2, "Missing argument"),
    (("batch", "frobnicate"), {}, 2, "No such command"),
    (("batch", "status", "no-such-batch"), {}, 1, "[NOT_FOUND]"),
    (("batch", "report", "no-such-batch"), {}, 1, "[NOT_FOUND]"),
    (("batch", "report", "b1", "--json", "--csv"), {}, 2, "not both"),
    (("batch", "close", "no-such-batch"), {}, 1, "[NOT_FOUND]"),
    (("batch", "cancel", "no-such-batch"), {}, 1, "[NOT_FOUND]"),
    (("batch", "watch", "b1", "--timeout", "-1"), {}, 2, "--timeout"),
    (("batch", "list", "--limit", "0"), {}, 2, "limit"),
    (("batch", "create", "--expected", "x", "--owner", "t"), {}, 2, "Invalid value"),
    (("batch", "list"), {"ELS_SHARDS": "0"}, 2, "ELS_SHARDS"),
    (
        ("batch", "status", "b1", "--owner", "o"),
        {"ELS_REDIS_URL": "redis://127.0.0.1:1/0"},
        1,
        "cannot reach Redis",
    ),
    (("demo", "/no/such/folder"), {}, 2, "/no/such/folder"),
    (("purge", "--older-than", "-1"), {}, 2, "--older-than"),
]


def test_bad_input_is_one_line_and_an_exit_code(cli_env: dict[str, str], tmp_path: Path) -> None:
    def run(case: tuple[tuple[str, ...], dict[str, str], int, str]) -> str | None:
        args, extra_env, exit_code, says = case
        result = els(*args, env={**cli_env, **extra_env}, cwd=tmp_path)
        lines = result.stderr.strip().splitlines()
        one_clear_line = len(lines) == 1 and says in lines[0] and "Traceback" not in result.stderr
        if result.returncode == exit_code and one_clear_line:
            return None
        return f"els {' '.join(args)}: exit {result.returncode} (want {exit_code}), stderr {result.stderr!r}"

    # The commands run side by side: each is a process of its own, and most of its time is start-up.
    with ThreadPoolExecutor(max_workers=4) as pool:
        problems = [problem for problem in pool.map(run, CASES) if problem is not None]
    assert problems == []


def test_version_prints_and_exits_zero(cli_env: dict[str, str], tmp_path: Path) -> None:
    result = els("--version", env=cli_env, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("els ")
