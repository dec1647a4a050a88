"""The webhook endpoints and the dashboard's files over HTTP: secrets shown once, owners kept apart,
refused targets answered with their code, and every dashboard answer under a strict policy."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.e2e.api.conftest import ALICE, BOB, new_batch_id

pytestmark = [pytest.mark.webhooks, pytest.mark.redis, pytest.mark.postgres]


def test_the_secret_is_shown_once_and_owners_see_only_their_own_webhook(client: TestClient) -> None:
    created = client.put("/v1/webhook", json={"url": "https://hooks.example.com/els"}, headers=ALICE)
    assert created.status_code == 200
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert "batch.completed" in body["events"] and "batch.cancelled" in body["events"]
    again = client.get("/v1/webhook", headers=ALICE).json()
    assert again["url"] == "https://hooks.example.com/els" and again["secret"] is None
    assert client.get("/v1/webhook", headers=BOB).json()["error"]["code"] == "NOT_FOUND"
    assert client.get("/v1/webhooks/deliveries", headers=BOB).json() == {"deliveries": []}
    rotated = client.put("/v1/webhook", json={"url": "https://hooks.example.com/els"}, headers=ALICE).json()
    assert rotated["secret"] != body["secret"]
    assert client.delete("/v1/webhook", headers=ALICE).status_code == 204
    assert client.get("/v1/webhook", headers=ALICE).status_code == 404
    assert client.delete("/v1/webhook", headers=ALICE).status_code == 404


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000/", "http://169.254.169.254/latest", "ftp://example.com/", "http://u:p@x.io/"],
)
def test_a_refused_target_is_answered_with_its_code_and_nothing_is_stored(
    client: TestClient, url: str
) -> None:
    answer = client.put("/v1/webhook", json={"url": url}, headers=BOB)
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "WEBHOOK_TARGET_REFUSED"
    assert client.get("/v1/webhook", headers=BOB).status_code == 404


def test_a_batch_webhook_needs_a_standard_secret(client: TestClient) -> None:
    batch_id = new_batch_id()
    answer = client.post(
        "/v1/batches",
        json={
            "batch_id": batch_id,
            "expected_count": 1,
            "webhook": {"url": "https://h.example.com/", "secret": "x"},
        },
        headers=ALICE,
    )
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "INVALID_INPUT"
    assert client.get(f"/v1/batches/{batch_id}", headers=ALICE).status_code == 404  # nothing half-written


def test_the_dashboard_is_served_under_a_strict_policy_and_nothing_else_is(client: TestClient) -> None:
    page = client.get("/ui/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert client.get("/ui/app.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/ui", follow_redirects=False).status_code == 308
    for name in ["../api/ui.py", "ui.py", "%2e%2e%2fsettings.py", "missing.js"]:
        assert client.get(f"/ui/{name}").status_code == 404
