"""The sweep against the real Redis: a stuck batch whose keys vanished is reported, never forgotten."""

from __future__ import annotations

import logging

import pytest
import redis
from prometheus_client import REGISTRY

from coordinator import now_ms
from services.runtime import Runtime
from services.settle import settle
from services.sweep import sweep
from tests.integration.services.support import processed, queued_tasks
from tests.support.batches import register_batch


def test_the_sweep_reports_a_stuck_batch_whose_keys_vanished(
    runtime: Runtime, redis_client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    batch_id = register_batch(runtime, 1)
    assert settle(runtime, processed(runtime, batch_id, 1)).sealed
    redis_client.delete(runtime.coordinator.config.keys.batch(batch_id).hash)  # evicted, deleted by hand
    before = REGISTRY.get_sample_value("els_batches_vanished_total") or 0.0
    later = now_ms() + (runtime.settings.stuck_after_seconds + 1) * 1000
    with caplog.at_level(logging.ERROR, logger="services.sweep"):
        result = sweep(runtime, later)
    assert result.vanished == (batch_id,)
    assert batch_id not in result.to_complete
    assert ("els.complete_batch", f"els-complete-{batch_id}") not in queued_tasks(redis_client, runtime)
    assert REGISTRY.get_sample_value("els_batches_vanished_total") == before + 1
    errors = [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR]
    assert any(batch_id in message for message in errors)
