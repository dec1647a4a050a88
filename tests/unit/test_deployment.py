"""The compose file describes the deployment the docs promise, and renders with compose v1 and v2."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
SECRETS = {
    "POSTGRES_PASSWORD": "pgsecret1",
    "REDIS_PASSWORD": "redissecret1",
    "FLOWER_BASIC_AUTH": "ops:flowersecret1",
    "ELS_API_TOKENS": '{"0123abcd": "alice", "4567ef01": "bob"}',
}


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
        "broker",
        "postgres",
        "migrate",
        "api",
        "worker",
        "control-worker",
        "beat",
        "flower",
    }


@pytest.mark.parametrize("name", ["redis", "broker"])
def test_compose_redis_never_evicts_keeps_an_append_only_file_and_wants_a_password(name: str) -> None:
    command = services()[name]["command"]
    assert isinstance(command, list)
    flags = dict(zip(command[1::2], command[2::2], strict=True))
    assert flags["--appendonly"] == "yes"
    assert flags["--appendfsync"] == "everysec"
    assert flags["--maxmemory-policy"] == "noeviction"
    assert flags["--requirepass"] == "${REDIS_PASSWORD}"


def test_compose_long_running_services_have_health_checks() -> None:
    for name in ("redis", "broker", "postgres", "api", "worker", "control-worker", "beat", "flower"):
        assert "healthcheck" in services()[name], name


def test_compose_beat_is_healthy_only_while_sweeps_run() -> None:
    healthcheck = services()["beat"]["healthcheck"]
    assert isinstance(healthcheck, dict)
    assert healthcheck["test"] == ["CMD", "els", "beat-alive"]


def test_compose_keeps_the_flower_password_out_of_the_command_line() -> None:
    command = services()["flower"]["command"]
    assert isinstance(command, list)
    assert not any("auth" in str(part) for part in command)


def compose_commands() -> list[list[str]]:
    """Every compose this machine has: v2 (`docker compose`) and v1 (`docker-compose`)."""
    found: list[list[str]] = []
    if shutil.which("docker") is not None:
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            found.append(["docker", "compose"])
    if shutil.which("docker-compose") is not None:
        found.append(["docker-compose"])
    return found


COMPOSES = compose_commands()
needs_compose = pytest.mark.skipif(not COMPOSES, reason="neither `docker compose` nor `docker-compose` here")


def render(compose: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`compose config` with exactly `env` (no .env is read: the project directory is a copy)."""
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    shutil.copy(COMPOSE, project / "docker-compose.yml")
    (project / "deploy").mkdir(exist_ok=True)
    shutil.copy(ROOT / "deploy" / "els.env", project / "deploy" / "els.env")
    clean = {key: value for key, value in os.environ.items() if key not in SECRETS}
    return subprocess.run(
        [*compose, "-f", str(project / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        check=False,
        env={**clean, **env},
        cwd=project,
        timeout=120,
    )


def rendered_services(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, object]]:
    assert result.returncode == 0, result.stderr
    loaded = yaml.safe_load(result.stdout)
    assert isinstance(loaded, dict)
    raw = loaded["services"]
    assert isinstance(raw, dict)
    return {str(name): spec for name, spec in raw.items() if isinstance(spec, dict)}


def environment(spec: dict[str, object]) -> dict[str, str]:
    raw = spec["environment"]
    assert isinstance(raw, dict)
    return {str(key): str(value) for key, value in raw.items()}


@pytest.mark.docker
@needs_compose
@pytest.mark.parametrize("compose", COMPOSES, ids=" ".join)
def test_compose_renders_the_tokens_as_the_json_they_were_given(compose: list[str], tmp_path: Path) -> None:
    rendered = rendered_services(render(compose, SECRETS, tmp_path))
    for name in ("migrate", "api", "worker", "control-worker", "beat", "flower"):
        tokens = environment(rendered[name])["ELS_API_TOKENS"]
        assert json.loads(tokens) == {"0123abcd": "alice", "4567ef01": "bob"}, name


@pytest.mark.docker
@needs_compose
@pytest.mark.parametrize("compose", COMPOSES, ids=" ".join)
@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_compose_refuses_a_missing_secret_and_names_it(
    compose: list[str], missing: str, tmp_path: Path
) -> None:
    env = {key: value for key, value in SECRETS.items() if key != missing}
    result = render(compose, env, tmp_path)
    assert result.returncode != 0
    assert f"set {missing} in .env" in result.stderr


@pytest.mark.docker
@needs_compose
@pytest.mark.parametrize("compose", COMPOSES, ids=" ".join)
def test_compose_publishes_only_the_api_and_flower_on_loopback(compose: list[str], tmp_path: Path) -> None:
    rendered = rendered_services(render(compose, SECRETS, tmp_path))
    published = {name: spec["ports"] for name, spec in rendered.items() if spec.get("ports")}
    assert set(published) == {"api", "flower"}
    flower = published["flower"]
    assert isinstance(flower, list)
    assert all(
        str(port.get("host_ip") if isinstance(port, dict) else port).startswith("127.0.0.1")
        for port in flower
    )


@pytest.mark.docker
@needs_compose
@pytest.mark.parametrize("compose", COMPOSES, ids=" ".join)
def test_compose_takes_hosts_ports_and_queue_from_variables(compose: list[str], tmp_path: Path) -> None:
    env = {
        **SECRETS,
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": "16379",
        "BROKER_HOST": "127.0.0.1",
        "BROKER_PORT": "16380",
        "POSTGRES_HOST": "127.0.0.1",
        "POSTGRES_PORT": "15432",
        "ELS_API_PORT": "18000",
        "FLOWER_PORT": "15555",
        "ELS_QUEUE": "essays",
    }
    rendered = rendered_services(render(compose, env, tmp_path))
    api = environment(rendered["api"])
    assert api["ELS_REDIS_URL"] == "redis://:redissecret1@127.0.0.1:16379/0"
    assert api["ELS_BROKER_URL"] == "redis://:redissecret1@127.0.0.1:16380/0"
    assert api["ELS_DATABASE_URL"] == "postgresql+psycopg://els:pgsecret1@127.0.0.1:15432/els"
    assert api["ELS_API_PORT"] == "18000"
    assert environment(rendered["flower"])["FLOWER_PORT"] == "15555"
    assert environment(rendered["flower"])["FLOWER_BASIC_AUTH"] == "ops:flowersecret1"
    assert environment(rendered["postgres"])["PGPORT"] == "15432"
    for name, queue in (("worker", "essays"), ("control-worker", "essays-control")):
        command = rendered[name]["command"]
        assert isinstance(command, list)
        assert command[command.index("-Q") + 1] == queue
    metrics_ports = {
        name: environment(rendered[name])["ELS_WORKER_METRICS_PORT"] for name in ("worker", "control-worker")
    }
    assert metrics_ports == {"worker": "9808", "control-worker": "9809"}  # scraped inside the network
    redis_command = rendered["broker"]["command"]
    assert isinstance(redis_command, list)
    assert redis_command[redis_command.index("--port") + 1] == "16380"


def test_env_example_names_every_variable_the_compose_file_reads() -> None:
    used = set(re.findall(r"\$\{([A-Z_]+)", COMPOSE.read_text()))
    example = (ROOT / ".env.example").read_text()
    named = set(re.findall(r"^#?([A-Z_]+)=", example, flags=re.MULTILINE))
    assert used - named == set()
    required = {name for name in used if f"${{{name}:?" in COMPOSE.read_text()}
    assert required == set(SECRETS)
    for name in required:  # secrets ship empty: no default password anywhere
        assert re.search(rf"^{name}=$", example, flags=re.MULTILINE), name
