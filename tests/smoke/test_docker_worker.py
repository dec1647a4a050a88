"""Smoke test through pytest-celery's own Docker setup, where a Docker engine answers."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from pytest_celery import CeleryTestSetup
from pytest_celery.vendors.worker.tasks import ping


def docker_engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "info"], capture_output=True, check=False, timeout=20)
    return probe.returncode == 0


pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(not docker_engine_answers(), reason="no Docker engine answers on this machine"),
]


def test_ping_round_trips_through_a_containerised_worker(celery_setup: object) -> None:
    assert isinstance(celery_setup, CeleryTestSetup)
    assert ping.s().delay().get(timeout=60) == "pong"
