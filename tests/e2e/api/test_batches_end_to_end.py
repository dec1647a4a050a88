"""Every endpoint end to end: an uploaded batch really completes and its report is served."""

from __future__ import annotations

import time

from celery.worker.worker import WorkController
from fastapi.testclient import TestClient

from tests.e2e.api.conftest import ALICE, METRICS_TOKEN, bearer, essay_text, new_batch_id
from tests.support.prometheus import sample


def wait_for_state(client: TestClient, batch_id: str, state: str, timeout: float = 90) -> dict[str, object]:
    """Poll the batch status until it reaches `state`; fail with the last status after `timeout`."""
    deadline = time.monotonic() + timeout
    body: dict[str, object] = {}
    while time.monotonic() < deadline:
        body = client.get(f"/v1/batches/{batch_id}", headers=ALICE).json()
        if body.get("state") == state:
            return body
        time.sleep(0.2)
    raise AssertionError(f"batch {batch_id} never became {state}: {body}")


def test_uploaded_batch_completes_and_report_and_essays_are_served(
    client: TestClient, els_worker: WorkController
) -> None:
    batch_id = new_batch_id()
    created = client.post("/v1/batches", json={"batch_id": batch_id, "expected_count": 2}, headers=ALICE)
    assert created.status_code == 201, created.text
    essay_ids = created.json()["essay_ids"]
    assert essay_ids == [f"{batch_id}-001", f"{batch_id}-002"]

    listed = client.get("/v1/batches", params={"state": "active", "limit": 100}, headers=ALICE)
    assert listed.status_code == 200
    assert batch_id in [line["batch_id"] for line in listed.json()["batches"]]

    early = client.get(f"/v1/batches/{batch_id}/report", headers=ALICE)
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "BATCH_NOT_DONE"

    files = [
        ("files", ("first.txt", essay_text("volcanoes erupt slowly").encode(), "text/plain")),
        ("files", ("second.txt", essay_text("gardens need patient care").encode(), "text/plain")),
    ]
    uploaded = client.post(f"/v1/batches/{batch_id}/essays", files=files, headers=ALICE)
    assert uploaded.status_code == 202, uploaded.text
    assert len(uploaded.json()["submissions"]) == 2

    done = wait_for_state(client, batch_id, "done")
    assert (done["expected"], done["assigned"], done["failed"]) == (2, 2, 0)
    slots = client.get(f"/v1/batches/{batch_id}/slots", headers=ALICE).json()
    assert [slot["essay_id"] for slot in slots["slots"]] == essay_ids and slots["next_cursor"] is None
    assert {slot["file"]["filename"] for slot in slots["slots"]} == {"first.txt", "second.txt"}

    report = client.get(f"/v1/batches/{batch_id}/report", headers=ALICE)
    assert report.status_code == 200, report.text
    assert report.json()["batch_id"] == batch_id

    essay = client.get(f"/v1/essays/{essay_ids[0]}", headers=ALICE)
    assert essay.status_code == 200
    assert essay.json()["batch_id"] == batch_id
    assert essay.json()["metrics"] is not None

    late = client.post(
        f"/v1/batches/{batch_id}/essays", json={"text": essay_text("late arrivals")}, headers=ALICE
    )
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "BATCH_NOT_OPEN"


def test_json_text_essay_is_accepted(client: TestClient, els_worker: WorkController) -> None:
    batch_id = new_batch_id()
    client.post("/v1/batches", json={"batch_id": batch_id, "expected_count": 1}, headers=ALICE)
    sent = client.post(
        f"/v1/batches/{batch_id}/essays", json={"text": essay_text("oceans hold secrets")}, headers=ALICE
    )
    assert sent.status_code == 202, sent.text
    wait_for_state(client, batch_id, "done")


def test_ops_endpoints_answer(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert set(ready.json()["checks"].values()) == {"ok"}
    client.post("/v1/batches", json={"batch_id": new_batch_id(), "expected_count": 1}, headers=ALICE)
    # The gauges are counted in the background: the new batch shows within a few refreshes.
    deadline = time.monotonic() + 30
    while True:
        metrics = client.get("/metrics", headers=bearer(METRICS_TOKEN))
        assert metrics.status_code == 200
        open_lines = [line for line in metrics.text.splitlines() if line.startswith("els_open_batches ")]
        assert len(open_lines) == 1
        if float(open_lines[0].split()[1]) >= 1 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert float(open_lines[0].split()[1]) >= 1
    assert "els_outbox_backlog " in metrics.text
    # The API's own HTTP metrics, by route template; the workers' counters are the workers' to serve.
    assert sample(metrics.text, "els_http_requests_total", method="GET", route="/healthz", status="200") >= 1
    assert (
        sample(metrics.text, "els_http_requests_total", method="POST", route="/v1/batches", status="201") >= 1
    )
    assert "els_claims_total" not in metrics.text
