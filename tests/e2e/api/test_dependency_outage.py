"""While Redis does not answer, every call is 503 NOT_READY with Retry-After, and nothing is half-done:
the retry with the same request, once Redis is back, finds what was stored and completes it.

The outage is real: the app's Redis (and so its broker) points at a port where nothing listens.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from celery import Celery
from fastapi.testclient import TestClient
from httpx import Response

from db.engine import create_db_engine
from db.outbox import list_events
from db.session import unit_of_work
from els.ids import scoped_id
from els.settings import Settings
from tests.e2e.api.conftest import ALICE, essay_text, new_batch_id, serving
from tests.e2e.api.test_auth_and_errors import error_code, register, submissions_of

NOWHERE = "redis://127.0.0.1:1/0"


@pytest.fixture
def outage(api_settings: Settings, celery_app: Celery) -> Iterator[TestClient]:
    """The API on the session's database, with Redis (and the broker) refusing every connection."""
    with serving(api_settings.model_copy(update={"redis_url": NOWHERE}), celery_app) as client:
        yield client


def assert_not_ready(answer: Response) -> None:
    """503 NOT_READY, telling the client when to retry."""
    assert answer.status_code == 503, answer.text
    assert error_code(answer.json()) == "NOT_READY"
    assert answer.json()["error"]["details"] == {"dependency": "redis"}
    assert int(answer.headers["Retry-After"]) > 0


def event_types(settings: Settings, batch_id: str) -> list[str]:
    """The outbox events SQL holds about alice's batch, oldest first."""
    engine = create_db_engine(settings.database_url)
    try:
        with unit_of_work(engine, read_only=True) as session:
            return [event.event_type for event in list_events(session, scoped_id("alice", batch_id))]
    finally:
        engine.dispose()


def test_registration_during_an_outage_is_503_publishes_nothing_and_a_retry_completes_it(
    client: TestClient, outage: TestClient, api_settings: Settings
) -> None:
    batch_id = new_batch_id()
    body = {"batch_id": batch_id, "expected_count": 2}
    assert_not_ready(outage.post("/v1/batches", json=body, headers=ALICE))
    assert event_types(api_settings, batch_id) == []

    retried = client.post("/v1/batches", json=body, headers=ALICE)
    assert retried.status_code == 201, retried.text
    again = client.post("/v1/batches", json=body, headers=ALICE)
    assert again.status_code == 200, again.text
    assert event_types(api_settings, batch_id) == ["batch.registered"]


def test_upload_during_an_outage_is_503_stores_nothing_and_the_keyed_retry_is_accepted(
    client: TestClient, outage: TestClient, api_settings: Settings
) -> None:
    batch_id = register(client, count=2)
    headers = {**ALICE, "Idempotency-Key": f"k-{uuid.uuid4().hex}"}
    essay = {"text": essay_text("storms gather over plains")}
    assert_not_ready(outage.post(f"/v1/batches/{batch_id}/essays", json=essay, headers=headers))
    assert_not_ready(outage.post(f"/v1/batches/{batch_id}/essays", json=essay, headers=ALICE))
    assert submissions_of(api_settings, batch_id) == 0

    retried = client.post(f"/v1/batches/{batch_id}/essays", json=essay, headers=headers)
    assert retried.status_code == 202, retried.text
    assert [item["replayed"] for item in retried.json()["submissions"]] == [False]
    assert submissions_of(api_settings, batch_id) == 1


def test_reads_during_an_outage_are_503(client: TestClient, outage: TestClient) -> None:
    batch_id = register(client)
    for path in (
        f"/v1/batches/{batch_id}",
        f"/v1/batches/{batch_id}/slots",
        f"/v1/batches/{batch_id}/report",
        "/v1/batches",
    ):
        assert_not_ready(outage.get(path, headers=ALICE))
