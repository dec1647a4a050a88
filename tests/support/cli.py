"""The `els` command line as a user runs it: a child process with ELS_* settings of the test's own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def els(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`els ARGS...` in `cwd` with `env`, its output captured; never raises on a non-zero exit."""
    command = [sys.executable, "-m", "cli", *args]
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=240, check=False)


def cli_environment(redis_url: str, key_prefix: str, directory: Path) -> dict[str, str]:
    """This process's environment with the test's Redis, key prefix and queue, and a SQLite file in
    `directory`."""
    return {
        **os.environ,
        "ELS_REDIS_URL": redis_url,
        "ELS_KEY_PREFIX": key_prefix,
        "ELS_QUEUE": f"q-{key_prefix}",
        "ELS_DATABASE_URL": f"sqlite:///{directory / 'els.db'}",
    }
