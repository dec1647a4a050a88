"""With ELS_REDIS_MIN_REPLICAS=1, a step Redis took but no replica confirmed is 503 NOT_REPLICATED with
Retry-After, and the client's retry, once the replica is back, completes it exactly once.

The API runs on a private primary with one replica (tests/support/replicas.py), its broker included,
and the session's PostgreSQL; the replica is detached (`REPLICAOF NO ONE`) or stopped (SIGSTOP) to make
the primary's acknowledgements fail.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from celery import Celery
from fastapi.testclient import TestClient
from httpx import Response

from els.settings import Settings
from tests.e2e.api.conftest import ALICE, essay_text, new_batch_id, serving
from tests.e2e.api.test_auth_and_errors import error_code, submissions_of
from tests.e2e.api.test_dependency_outage import event_types
from tests.integration.coordinator.support import redis_server_available
from tests.support.replicas import ReplicatedRedis, detached, replicated_redis, stalled

pytestmark = pytest.mark.skipif(not redis_server_available(), reason="redis-server not on PATH")


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplicatedRedis]:
    with replicated_redis(tmp_path_factory.mktemp("api-replicated")) as running:
        yield running


@pytest.fixture
def durable_api(api_settings: Settings, celery_app: Celery, pair: ReplicatedRedis) -> Iterator[TestClient]:
    """The API whose Redis (and broker) is the private primary, waiting briefly for its one replica."""
    settings = api_settings.model_copy(
        update={
            "redis_url": pair.url,
            "redis_min_replicas": 1,
            "redis_replica_timeout_ms": 100,
            "queue": f"els-repl-{uuid.uuid4().hex[:8]}",  # nobody consumes it: the uploads stay queued
        }
    )
    with serving(settings, celery_app) as client:
        yield client


def assert_not_replicated(answer: Response) -> None:
    """503 NOT_REPLICATED, naming how many replicas confirmed and how many are required."""
    assert answer.status_code == 503, answer.text
    assert error_code(answer.json()) == "NOT_REPLICATED"
    assert answer.json()["error"]["details"] == {"dependency": "redis", "replicas": 0, "required": 1}
    assert int(answer.headers["Retry-After"]) > 0


def test_a_registration_no_replica_confirmed_is_503_and_its_retry_completes_it_once(
    durable_api: TestClient, pair: ReplicatedRedis, api_settings: Settings
) -> None:
    batch_id = new_batch_id()
    body = {"batch_id": batch_id, "expected_count": 2}
    with detached(pair):
        assert_not_replicated(durable_api.post("/v1/batches", json=body, headers=ALICE))
        # The primary holds the batch now, but a retry that only reads it is no surer: refused alike.
        assert_not_replicated(durable_api.post("/v1/batches", json=body, headers=ALICE))
    assert event_types(api_settings, batch_id) == []  # announced only once Redis has acknowledged it

    retried = durable_api.post("/v1/batches", json=body, headers=ALICE)
    assert retried.status_code in (200, 201), retried.text
    assert retried.json()["state"] == "open"
    assert event_types(api_settings, batch_id) == ["batch.registered"]


def test_an_upload_no_replica_confirmed_is_503_stores_nothing_and_its_keyed_retry_is_accepted(
    durable_api: TestClient, pair: ReplicatedRedis, api_settings: Settings
) -> None:
    batch_id = new_batch_id()
    created = durable_api.post("/v1/batches", json={"batch_id": batch_id, "expected_count": 2}, headers=ALICE)
    assert created.status_code == 201, created.text
    headers = {**ALICE, "Idempotency-Key": f"k-{uuid.uuid4().hex}"}
    essay = {"text": essay_text("rivers carve valleys")}
    with stalled(pair):
        assert_not_replicated(durable_api.post(f"/v1/batches/{batch_id}/essays", json=essay, headers=headers))
    assert submissions_of(api_settings, batch_id) == 0

    retried = durable_api.post(f"/v1/batches/{batch_id}/essays", json=essay, headers=headers)
    assert retried.status_code == 202, retried.text
    assert [item["replayed"] for item in retried.json()["submissions"]] == [False]
    assert submissions_of(api_settings, batch_id) == 1
