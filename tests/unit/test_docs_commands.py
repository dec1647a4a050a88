"""The commands in the fenced `sh` blocks of the operations, performance and reliability guides run as
written, as far as a test can without their minutes of work: test commands collect, bench commands know
every option they are given, and `els` and `alembic` commands exist.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDES = ("docs/operations.md", "docs/performance.md", "docs/reliability.md")
_FENCE = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
_ASSIGNMENT = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")


def commands() -> list[tuple[str, str]]:
    found = []
    for guide in GUIDES:
        for block in _FENCE.findall((ROOT / guide).read_text()):
            found += [
                (guide, line) for line in block.splitlines() if line.strip() and not line.startswith("#")
            ]
    return found


def run(arguments: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        arguments,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
        env={**os.environ, **env},
    )


def test_the_guides_have_commands_to_check() -> None:
    assert len(commands()) >= 10


def parsed(line: str) -> tuple[dict[str, str], str, list[str]]:
    """A guide's command line as its environment assignments, the program after `uv run`, and its args."""
    words = shlex.split(line)
    env: dict[str, str] = {}
    while words and (assignment := _ASSIGNMENT.match(words[0])):
        env[assignment.group(1)] = assignment.group(2)
        words.pop(0)
    assert words[:2] == ["uv", "run"], f"run it through uv: {line}"
    program, *arguments = words[2:]
    return env, program, arguments


def test_every_test_command_of_the_guides_collects() -> None:
    """One collection of every path the guides' pytest commands name, with every option they pass."""
    arguments = {
        argument for _, line in commands() for argument in parsed(line)[2] if parsed(line)[1] == "pytest"
    }
    assert arguments, "the guides name no test command"
    paths = sorted(argument for argument in arguments if not argument.startswith("-"))
    options = sorted(argument for argument in arguments if argument.startswith("-"))
    result = run(
        [sys.executable, "-m", "pytest", "--collect-only", "-p", "no:cacheprovider", *options, *paths], {}
    )
    assert result.returncode == 0, f"{result.stdout[-3000:]}\n{result.stderr[-2000:]}"


OTHER = [(guide, line) for guide, line in commands() if parsed(line)[1] != "pytest"]


@pytest.mark.parametrize(("guide", "line"), OTHER, ids=[line for _, line in OTHER])
def test_a_guide_command_runs_as_written(guide: str, line: str) -> None:
    env, program, arguments = parsed(line)
    if program == "python":
        script, *options = arguments
        if script == "-m":  # a module run as a script: python -m tests.cluster.run ...
            module, *options = options
            assert (ROOT / (module.replace(".", "/") + ".py")).is_file(), f"{guide}: no module {module}"
            result = run([sys.executable, "-m", module, "--help"], env)
        else:
            assert (ROOT / script).is_file(), f"{guide}: no {script}"
            result = run([sys.executable, script, "--help"], env)
        assert result.returncode == 0, result.stderr
        unknown = [option for option in options if option.startswith("--") and option not in result.stdout]
        assert unknown == [], f"{guide}: {script} has no {unknown}"
    elif program in ("els", "alembic"):
        module = "cli" if program == "els" else "alembic"
        subcommand = [word for word in arguments if not word.startswith("-")][:2]
        result = run([sys.executable, "-m", module, *subcommand, "--help"], env)
        assert result.returncode == 0, f"{guide}: {line}\n{result.stderr[-2000:]}"
    else:
        pytest.fail(f"{guide}: a command this test does not know how to check: {line}")
