"""A prefork worker's /metrics adds up what every pool child counted."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from celery import Celery

import bootstrap
from cli.embedded_redis import free_port
from coordinator import BatchState
from els.settings import Settings
from services.runtime import Runtime
from tasks.app import create_app
from tests.e2e.test_pipeline import ESSAYS
from tests.support.batches import register_batch, submit, wait_for_state
from tests.support.prometheus import sample
from tests.support.workers import WorkerFleet


@pytest.fixture
def fleet_runtime(
    worker_settings: Settings, celery_app: Celery, tmp_path: Path
) -> Iterator[tuple[Runtime, str]]:
    """A prefork worker (2 children) serving metrics, and a runtime dispatching to its queue."""
    tag = uuid.uuid4().hex[:10]
    settings = worker_settings.model_copy(
        update={"queue": f"els-test-{tag}", "key_prefix": f"elstest-m{tag}"}
    )
    port = free_port()
    runtime = bootstrap.build_runtime(settings, create_app(settings))
    celery_app.set_current()  # a new Celery app makes itself current; the session's app stays so
    with WorkerFleet(
        settings,
        tmp_path,
        size=1,
        concurrency=2,
        ELS_WORKER_METRICS_PORT=str(port),
        ELS_WORKER_METRICS_DIR=str(tmp_path / "metrics"),
    ) as fleet:
        try:
            yield runtime, f"http://127.0.0.1:{port}/metrics"
        except BaseException:
            print(fleet.log_tails())
            raise
        finally:
            runtime.close()


def scrape(url: str, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=5).text
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_claims_made_in_every_pool_child_show_in_the_main_process_metrics(
    fleet_runtime: tuple[Runtime, str],
) -> None:
    runtime, url = fleet_runtime
    before = sample(scrape(url), "els_claims_total", outcome="assigned")
    batch_id = register_batch(runtime, 6)
    for index in range(6):
        essay = f"{ESSAYS[index % len(ESSAYS)]} This is essay number {index}."
        submit(runtime, batch_id, f"essay-{index}.txt", essay.encode())
    wait_for_state(runtime, batch_id, BatchState.DONE, timeout=180)
    text = scrape(url)
    assert sample(text, "els_claims_total", outcome="assigned") - before == 6
    assert sample(text, "els_batches_completed_total") >= 1
