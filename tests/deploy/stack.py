"""A compose project on this machine's Docker engine, driven the way an operator drives it.

Whichever compose is present is used: v2 (`docker compose`, which has `up --wait`) first, else v1
(`docker-compose`), whose healthchecks are polled. Everything is published on 127.0.0.1 only; nothing
ever talks to a container's own address.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cli.embedded_redis import free_port

ROOT = Path(__file__).resolve().parents[2]
LOCAL_IMAGES = {
    "PYTHON_IMAGE": "els-local/python:3.11",
    "REDIS_IMAGE": "els-local/redis:7",
    "POSTGRES_IMAGE": "els-local/postgres:15",
}
LONG_RUNNING = ("redis", "broker", "postgres", "api", "worker", "control-worker", "beat", "flower")


def run(
    command: Sequence[str], *, timeout: float = 600, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure raise with its output, which the test log then shows."""
    result = subprocess.run(list(command), capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


def engine_problem() -> str | None:
    """Why no Docker engine can be used here, or None when one answers."""
    if shutil.which("docker") is None:
        return "no docker client on PATH"
    probe = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30, check=False)
    if probe.returncode != 0:
        return f"no Docker engine answers: {probe.stderr.strip().splitlines()[-1:]}"
    if compose_command() is None:
        return "neither `docker compose` nor `docker-compose` is installed"
    return None


def compose_command() -> list[str] | None:
    """`docker compose` when the plugin is there, else `docker-compose`, else None."""
    if shutil.which("docker") is not None:
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose") is not None:
        return ["docker-compose"]
    return None


def image_exists(name: str) -> bool:
    return run(["docker", "image", "inspect", name], check=False).returncode == 0


@dataclass
class Stack:
    """One compose project: its env file, its compose command and what it publishes."""

    compose: list[str]
    project: str
    env_file: Path
    token: str
    flower_auth: tuple[str, str]
    api_port: int
    flower_port: int

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def flower(self) -> str:
        return f"http://127.0.0.1:{self.flower_port}"

    def __call__(
        self, *args: str, timeout: float = 600, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        base = [*self.compose, "-p", self.project, "--env-file", str(self.env_file)]
        return run([*base, "-f", str(ROOT / "docker-compose.yml"), *args], timeout=timeout, check=check)

    def container(self, service: str) -> str:
        ids = self("ps", "-q", service).stdout.split()
        if len(ids) != 1:
            raise RuntimeError(f"expected one {service} container, found {ids}")
        return ids[0]

    def health(self, service: str) -> str:
        """`healthy`, `unhealthy`, `starting`, or the state of a container without a healthcheck."""
        template = "{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}"
        return run(["docker", "inspect", "-f", template, self.container(service)]).stdout.strip()

    def wait_healthy(self, services: Sequence[str] = LONG_RUNNING, timeout: float = 600) -> None:
        """Poll the healthchecks until every service is healthy (no clock asserted: this only bounds)."""
        deadline = time.monotonic() + timeout
        waiting = list(services)
        while waiting:
            waiting = [name for name in waiting if self.health(name) != "healthy"]
            if not waiting:
                return
            if time.monotonic() > deadline:
                states = {name: self.health(name) for name in waiting}
                raise RuntimeError(f"not healthy after {timeout:.0f} s: {states}\n{self.logs()}")
            time.sleep(3)

    def logs(self) -> str:
        result = self("logs", "--no-color", "--tail", "60", check=False)
        return result.stdout + result.stderr

    def worker_metrics(self, service: str = "worker", port: int = 9808) -> str:
        """The worker's /metrics, fetched from inside its container (the port is not published)."""
        url = f"http://127.0.0.1:{port}/metrics"
        read = f"urllib.request.urlopen({url!r}, timeout=20).read().decode()"
        fetch = f"import sys, urllib.request; sys.stdout.write({read})"
        return self("exec", "-T", service, "python", "-c", fetch).stdout

    def redis_cli(self, service: str, *args: str) -> str:
        return self("exec", "-T", service, "redis-cli", *args).stdout.strip()


def write_env_file(directory: Path, project: str, extra: Mapping[str, str] = {}) -> Stack:
    """A fresh .env with new secrets, short sweeps and timeouts, and loopback ports free right now."""
    compose = compose_command()
    assert compose is not None
    token = secrets.token_urlsafe(24)
    digest = hashlib.sha256(token.encode()).hexdigest()
    flower_user, flower_password = "ops", secrets.token_hex(12)
    api_port, flower_port = free_port(), free_port()
    settings = directory / "els.env"
    settings.write_text(
        "\n".join(
            [
                # Quick sweeps (beat's heartbeat and expiry), and a killed worker's messages back soon.
                "ELS_SWEEP_INTERVAL_SECONDS=2",
                "ELS_STUCK_AFTER_SECONDS=10",
                "ELS_VISIBILITY_TIMEOUT=40",
                "ELS_TASK_SOFT_TIME_LIMIT=25",
                "ELS_TASK_TIME_LIMIT=30",
                "",
            ]
        )
    )
    values = {
        "POSTGRES_PASSWORD": secrets.token_hex(16),
        "REDIS_PASSWORD": secrets.token_hex(16),
        "ELS_API_TOKENS": "'" + json.dumps({digest: "smoke"}) + "'",
        "FLOWER_BASIC_AUTH": f"{flower_user}:{flower_password}",
        "PUBLISH_ADDR": "127.0.0.1",
        "HEALTHCHECK_INTERVAL": "10s",
        "ELS_API_PORT": str(api_port),
        "FLOWER_PORT": str(flower_port),
        "ELS_SETTINGS_FILE": str(settings),
        **{name: image for name, image in LOCAL_IMAGES.items() if image_exists(image)},
        **extra,
    }
    env_file = directory / ".env"
    env_file.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    return Stack(
        compose=compose,
        project=project,
        env_file=env_file,
        token=token,
        flower_auth=(flower_user, flower_password),
        api_port=api_port,
        flower_port=flower_port,
    )
