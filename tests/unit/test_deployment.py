"""The compose file describes the deployment the docs promise."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"


def load_compose() -> dict[str, object]:
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def services() -> dict[str, dict[str, object]]:
    raw = load_compose()["services"]
    assert isinstance(raw, dict)
    return {str(name): spec for name, spec in raw.items() if isinstance(spec, dict)}


def test_compose_runs_every_role() -> None:
    assert set(services()) == {
        "redis",
        "postgres",
        "migrate",
        "api",
        "worker",
        "control-worker",
        "beat",
        "flower",
    }


def test_compose_redis_never_evicts_and_keeps_an_append_only_file() -> None:
    command = services()["redis"]["command"]
    assert isinstance(command, list)
    flags = dict(zip(command[1::2], command[2::2], strict=True))
    assert flags == {"--appendonly": "yes", "--appendfsync": "everysec", "--maxmemory-policy": "noeviction"}


def test_compose_long_running_services_have_health_checks() -> None:
    for name in ("redis", "postgres", "api", "worker", "control-worker", "beat", "flower"):
        assert "healthcheck" in services()[name], name


def test_compose_flower_requires_basic_auth() -> None:
    command = services()["flower"]["command"]
    assert isinstance(command, list)
    assert any(str(part).startswith("--basic-auth=") for part in command)


def docker_compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.mark.docker
@pytest.mark.skipif(not docker_compose_available(), reason="the docker client has no compose plugin here")
def test_docker_compose_accepts_the_file() -> None:
    env = {**os.environ, "FLOWER_PASSWORD": "secret"}
    result = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr
