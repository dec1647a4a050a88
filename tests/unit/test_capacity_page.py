"""docs/capacity.md is what bench/capacity.py makes of the committed bench JSON, its arithmetic follows the
scenario it states, and the commands it shows run as written."""

from __future__ import annotations

import dataclasses
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from bench import capacity_plan as capacity
from els.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "capacity.md"
_FENCE = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)


def committed_plan(scenario: capacity.Scenario | None = None) -> capacity.Plan:
    inputs = capacity.read_inputs(capacity.load(ROOT / "docs" / "capacity"))
    return capacity.plan(inputs, scenario or capacity.Scenario(), capacity.Budgets(), Settings())


def test_the_page_is_what_the_script_generates_from_the_committed_json() -> None:
    result = subprocess.run(
        [sys.executable, "bench/capacity.py", "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr


def test_the_peak_follows_the_stated_scenario() -> None:
    # 10,000 x 300 classes x 0.2 a day x 10 in the exam week x 30 essays = 180 M essays; half are due at
    # midnight, 80 % of those in its last 4 hours at twice the window's mean, the rest over the whole day.
    plan = committed_plan()
    assert plan.exam_essays == pytest.approx(180_000_000)
    assert plan.peak == pytest.approx(72_000_000 / 14_400 * 2 + 108_000_000 / 86_400)


def test_demand_grows_with_the_schools_and_the_limits_do_not() -> None:
    plan = committed_plan()
    doubled = committed_plan(dataclasses.replace(capacity.Scenario(), schools=20_000))
    for before, after in zip(plan.resources, doubled.resources, strict=True):
        assert after.demand == pytest.approx(2 * before.demand)
        assert after.ceiling == before.ceiling
        assert after.saturates_at(20_000) == pytest.approx(before.saturates_at(10_000))


def test_the_first_bottleneck_is_the_service_that_fills_at_the_fewest_schools() -> None:
    plan = committed_plan()
    assert plan.first.saturates_at(10_000) == min(r.saturates_at(10_000) for r in plan.resources)
    assert plan.first.name in PAGE.read_text()


def page_commands() -> list[str]:
    return [
        line
        for block in _FENCE.findall(PAGE.read_text())
        for line in block.splitlines()
        if line.strip() and not line.startswith("#")
    ]


def test_the_page_shows_how_to_regenerate_it() -> None:
    assert "uv run python bench/capacity.py" in page_commands()


@pytest.mark.parametrize("line", page_commands())
def test_a_page_command_runs_as_written(line: str) -> None:
    words = shlex.split(line)
    assert words[:3] == ["uv", "run", "python"], f"run a bench through uv: {line}"
    script, *options = words[3:]
    assert (ROOT / script).is_file(), f"no {script}"
    result = subprocess.run(
        [sys.executable, script, "--help"], capture_output=True, text=True, timeout=60, check=False, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    unknown = [option for option in options if option.startswith("--") and option not in result.stdout]
    assert unknown == [], f"{script} has no {unknown}"


def test_the_check_fails_on_a_page_that_drifted_from_the_json(tmp_path: Path) -> None:
    drifted = tmp_path / "capacity.md"
    drifted.write_text(PAGE.read_text().replace("| exam-week day |", "| exam day |"))
    result = subprocess.run(
        [sys.executable, "bench/capacity.py", "--check", "--page", str(drifted)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 1
    assert "is not what bench/capacity.py generates" in result.stderr
