"""Flower, run through Celery's own CLI against the test broker, sees ELS's tasks by name and state."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from celery.worker.worker import WorkController

from cli.embedded_redis import free_port
from els.settings import Settings
from tasks.health import ping

pytestmark = pytest.mark.slow


@pytest.fixture
def flower_url(worker_settings: Settings) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "ELS_REDIS_URL": worker_settings.redis_url,
        "ELS_DATABASE_URL": worker_settings.database_url,
        "ELS_QUEUE": worker_settings.queue,
    }
    command = [
        sys.executable, "-m", "celery", "-A", "worker", "flower",
        f"--port={port}", "--address=127.0.0.1", "--basic-auth=ops:secret", "--purge_offline_workers=60",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/healthcheck", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("Flower did not come up")
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_flower_requires_basic_auth(flower_url: str) -> None:
    assert httpx.get(f"{flower_url}/api/tasks", timeout=5).status_code == 401


def test_flower_lists_els_tasks_with_name_and_state(flower_url: str, els_worker: WorkController) -> None:
    # Flower learns of tasks from the event stream, so send tasks after it is listening.
    deadline = time.monotonic() + 60
    seen: dict[str, object] = {}
    while time.monotonic() < deadline:
        task_id = ping.delay().id
        time.sleep(0.5)
        reply = httpx.get(f"{flower_url}/api/tasks", auth=("ops", "secret"), timeout=5)
        tasks = reply.json() if reply.status_code == 200 else {}
        entry = tasks.get(task_id) if isinstance(tasks, dict) else None
        # Flower may join mid-task and see only its last events; wait for a task it saw whole.
        if isinstance(entry, dict) and entry.get("state") == "SUCCESS" and entry.get("name"):
            seen = entry
            break
    assert seen.get("name") == "els.ping"
    assert seen.get("state") == "SUCCESS"
