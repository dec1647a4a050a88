"""Issue row 7 (API side): /metrics behind its own token and O(1) per scrape; the OpenAPI pages a setting."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

from tests.e2e.api.conftest import ALICE, digest
from tests.security.conftest import Serve

METRICS_TOKEN = f"metrics-{uuid.uuid4().hex}"


@pytest.fixture
def scrape_redis_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every Redis command sent from the API's request threads while the test runs."""
    calls: list[str] = []
    original: Callable[..., object] = redis.Redis.execute_command

    def counting(self: redis.Redis, *args: object, **options: object) -> object:
        if threading.current_thread().name.startswith("AnyIO worker thread"):
            calls.append(str(args[0]))
        return original(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counting)
    yield calls


def test_metrics_is_404_without_a_configured_token(serve: Serve) -> None:
    with serve(metrics_token_sha256=None) as served:
        answer = served.client.get("/metrics", headers={"Authorization": "Bearer anything"})
        assert answer.status_code == 404
        assert "els_open_batches" not in answer.text


def test_metrics_needs_its_token_and_a_scrape_does_constant_redis_work(
    serve: Serve, scrape_redis_calls: list[str]
) -> None:
    with serve(metrics_token_sha256=digest(METRICS_TOKEN), metrics_refresh_seconds=3600) as served:
        api = served.client
        assert api.get("/metrics").status_code == 401
        assert api.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        # An API token is not the metrics token.
        assert api.get("/metrics", headers=ALICE).status_code == 401
        for _ in range(30):
            body = {"batch_id": f"sec-{uuid.uuid4().hex[:12]}", "expected_count": 1}
            assert api.post("/v1/batches", json=body, headers=ALICE).status_code == 201
        scrape_redis_calls.clear()
        scrapes = 10
        for _ in range(scrapes):
            answer = api.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
            assert answer.status_code == 200
            assert "els_open_batches " in answer.text
        # Only the address rate limit's few commands; nothing per open batch (30 here).
        assert 0 < len(scrape_redis_calls) <= 4 * scrapes, scrape_redis_calls[:20]


def test_openapi_document_and_pages_follow_the_setting(serve: Serve) -> None:
    with serve(api_docs=False) as served:
        for path in ("/openapi.json", "/docs", "/redoc"):
            assert served.client.get(path).status_code == 404
    with serve(api_docs=True) as served:
        assert served.client.get("/openapi.json").status_code == 200
        assert served.client.get("/docs").status_code == 200
