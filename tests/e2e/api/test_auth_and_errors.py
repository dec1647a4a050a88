"""Auth and owner scoping, the one error shape, every error code, correlation ids and replays."""

from __future__ import annotations

import uuid

from celery import Celery
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from api.metrics import REGISTRY
from api.middleware import RequestGuard
from db.models import Submission
from els.settings import Settings
from tests.e2e.api.conftest import ALICE, BOB, SAMPLES, essay_text, new_batch_id, rows_of, serving


def error_code(response_json: object) -> str:
    """The stable code of an error body, checking the whole shape on the way."""
    assert isinstance(response_json, dict)
    error = response_json["error"]
    assert set(error) == {"code", "message", "correlation_id", "details"}
    assert error["correlation_id"]
    code = error["code"]
    assert isinstance(code, str)
    return code


def register(client: TestClient, count: int = 2) -> str:
    """Register a batch of alice's and return its id."""
    batch_id = new_batch_id()
    answer = client.post("/v1/batches", json={"batch_id": batch_id, "expected_count": count}, headers=ALICE)
    assert answer.status_code == 201, answer.text
    return batch_id


def submissions_of(settings: Settings, batch_id: str) -> int:
    """How many submissions SQL holds for the batch."""
    return rows_of(settings, Submission, batch_id)


def test_missing_or_unknown_token_is_401(client: TestClient) -> None:
    missing = client.get("/v1/batches")
    assert missing.status_code == 401
    assert error_code(missing.json()) == "UNAUTHORIZED"
    wrong = client.get("/v1/batches", headers={"Authorization": "Bearer not-a-token"})
    assert wrong.status_code == 401
    assert error_code(wrong.json()) == "UNAUTHORIZED"


def test_another_owners_batch_and_essay_are_not_found(client: TestClient) -> None:
    batch_id = register(client)
    for path in (f"/v1/batches/{batch_id}", f"/v1/batches/{batch_id}/report", f"/v1/essays/{batch_id}-001"):
        answer = client.get(path, headers=BOB)
        assert answer.status_code == 404, path
        assert error_code(answer.json()) == "NOT_FOUND"
    upload = client.post(f"/v1/batches/{batch_id}/essays", json={"text": essay_text("bob")}, headers=BOB)
    assert upload.status_code == 404
    listed = client.get("/v1/batches", params={"limit": 100}, headers=BOB).json()
    assert batch_id not in [line["batch_id"] for line in listed["batches"]]


def test_identical_registration_replays_with_200_and_same_body(client: TestClient) -> None:
    body = {"batch_id": new_batch_id(), "essay_ids": [f"e-{uuid.uuid4().hex[:12]}"], "deadline_seconds": 600}
    first = client.post("/v1/batches", json=body, headers=ALICE)
    again = client.post("/v1/batches", json=body, headers=ALICE)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()


def test_conflicting_registration_replay_is_409(client: TestClient) -> None:
    batch_id = new_batch_id()
    client.post("/v1/batches", json={"batch_id": batch_id, "expected_count": 2}, headers=ALICE)
    changed = client.post(
        "/v1/batches", json={"batch_id": batch_id, "expected_count": 2, "deadline_seconds": 99}, headers=ALICE
    )
    assert changed.status_code == 409
    assert error_code(changed.json()) == "BATCH_CONFLICT"
    # Another owner's equal id is another batch (ids are scoped by owner), not a conflict.
    other_owner = client.post("/v1/batches", json={"batch_id": batch_id, "expected_count": 2}, headers=BOB)
    assert other_owner.status_code == 201


def test_retried_upload_with_the_same_idempotency_key_is_one_submission(
    client: TestClient, api_settings: Settings
) -> None:
    batch_id = register(client, count=3)
    key = {"Idempotency-Key": f"k-{uuid.uuid4().hex}"}
    files = [
        ("files", ("a.txt", essay_text("rivers carve valleys").encode(), "text/plain")),
        ("files", ("b.txt", essay_text("bridges span rivers").encode(), "text/plain")),
    ]
    first = client.post(f"/v1/batches/{batch_id}/essays", files=files, headers={**ALICE, **key})
    again = client.post(f"/v1/batches/{batch_id}/essays", files=files, headers={**ALICE, **key})
    assert (first.status_code, again.status_code) == (202, 202)
    ids = [item["submission_id"] for item in first.json()["submissions"]]
    assert [item["submission_id"] for item in again.json()["submissions"]] == ids
    assert [item["replayed"] for item in again.json()["submissions"]] == [True, True]
    assert len(set(ids)) == 2
    assert submissions_of(api_settings, batch_id) == 2


def test_unsupported_file_is_415_and_stores_nothing(client: TestClient, api_settings: Settings) -> None:
    batch_id = register(client)
    files = [
        ("files", ("ok.txt", essay_text("mountains rise high").encode(), "text/plain")),
        ("files", ("photo.png", (SAMPLES / "class_photo.png").read_bytes(), "image/png")),
    ]
    answer = client.post(f"/v1/batches/{batch_id}/essays", files=files, headers=ALICE)
    assert answer.status_code == 415
    assert error_code(answer.json()) == "UNSUPPORTED_TYPE"
    assert submissions_of(api_settings, batch_id) == 0
    wrong_type = client.post(
        f"/v1/batches/{batch_id}/essays", content=b"hello", headers={**ALICE, "Content-Type": "text/csv"}
    )
    assert wrong_type.status_code == 415


def test_too_large_upload_and_body_are_413_and_store_nothing(
    api_settings: Settings, celery_app: Celery
) -> None:
    small = api_settings.model_copy(update={"max_upload_bytes": 2000, "max_request_bytes": 20_000})
    with serving(small, celery_app) as client:
        batch_id = register(client)
        big_file = [("files", ("big.txt", b"word " * 1000, "text/plain"))]
        too_big = client.post(f"/v1/batches/{batch_id}/essays", files=big_file, headers=ALICE)
        assert too_big.status_code == 413
        assert error_code(too_big.json()) == "PAYLOAD_TOO_LARGE"
        huge_body = [("files", ("huge.txt", b"word " * 10_000, "text/plain"))]
        declared = client.post(f"/v1/batches/{batch_id}/essays", files=huge_body, headers=ALICE)
        assert declared.status_code == 413

        streamed = client.post(
            f"/v1/batches/{batch_id}/essays",
            content=iter([b"x" * 15_000, b"x" * 15_000]),
            headers={**ALICE, "Content-Type": "multipart/form-data; boundary=zzz"},
        )
        assert streamed.status_code == 413
        assert submissions_of(small, batch_id) == 0


def test_unknown_batch_and_route_and_bad_input_have_the_error_shape(client: TestClient) -> None:
    unknown = client.get("/v1/batches/no-such-batch", headers=ALICE)
    assert unknown.status_code == 404 and error_code(unknown.json()) == "NOT_FOUND"
    upload = client.post("/v1/batches/no-such-batch/essays", json={"text": "x"}, headers=ALICE)
    assert upload.status_code == 404
    route = client.get("/v1/nowhere")
    assert route.status_code == 404 and error_code(route.json()) == "NOT_FOUND"
    bad_id = client.get("/v1/batches/bad:id", headers=ALICE)
    assert bad_id.status_code == 422 and error_code(bad_id.json()) == "INVALID_INPUT"
    bad_body = client.post("/v1/batches", json={"expected_count": "many"}, headers=ALICE)
    assert bad_body.status_code == 422 and error_code(bad_body.json()) == "INVALID_INPUT"
    both = client.post("/v1/batches", json={"expected_count": 1, "essay_ids": ["a"]}, headers=ALICE)
    assert both.status_code == 422
    bad_key = client.post(
        f"/v1/batches/{register(client)}/essays",
        json={"text": essay_text("keys")},
        headers={**ALICE, "Idempotency-Key": "has space"},
    )
    assert bad_key.status_code == 422
    method = client.delete("/healthz")
    assert method.status_code == 405 and error_code(method.json()) == "METHOD_NOT_ALLOWED"


def test_correlation_id_is_echoed_when_valid_and_replaced_when_not(client: TestClient) -> None:
    kept = client.get("/healthz", headers={"X-Correlation-ID": "corr-123"})
    assert kept.headers["X-Correlation-ID"] == "corr-123"
    replaced = client.get("/v1/nowhere", headers={"X-Correlation-ID": "bad id!"})
    new_id = replaced.headers["X-Correlation-ID"]
    assert new_id != "bad id!" and new_id
    assert replaced.json()["error"]["correlation_id"] == new_id


def test_unhandled_failure_is_a_500_with_the_error_shape() -> None:
    async def crash(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    # Not entered as a context manager: this bare ASGI app has no lifespan.
    client = TestClient(RequestGuard(crash, max_request_bytes=100), raise_server_exceptions=False)
    answer = client.get("/anything")
    assert answer.status_code == 500
    assert error_code(answer.json()) == "INTERNAL_ERROR"
    assert answer.json()["error"]["correlation_id"] == answer.headers["X-Correlation-ID"]


def test_readyz_is_503_naming_an_unreachable_dependency(api_settings: Settings, celery_app: Celery) -> None:
    nowhere = api_settings.model_copy(
        update={"redis_url": "redis://127.0.0.1:1/0", "broker_url": "redis://127.0.0.1:1/0"}
    )
    with serving(nowhere, celery_app) as client:
        answer = client.get("/readyz")
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["redis"] != "ok" and checks["broker"] != "ok"


def test_cors_is_off_by_default_and_answers_only_the_origins_it_names(
    api_settings: Settings, celery_app: Celery
) -> None:
    preflight = {"Origin": "https://school.example", "Access-Control-Request-Method": "POST"}
    with serving(api_settings, celery_app) as client:
        assert "access-control-allow-origin" not in client.options("/v1/batches", headers=preflight).headers
    allowed = api_settings.model_copy(update={"cors_origins": ("https://school.example",)})
    with serving(allowed, celery_app) as client:
        before = REGISTRY.get_sample_value(PREFLIGHTS, PREFLIGHT_LABELS) or 0.0
        answer = client.options("/v1/batches", headers=preflight)
        assert answer.status_code == 200
        assert answer.headers["access-control-allow-origin"] == "https://school.example"
        other = client.options("/v1/batches", headers={**preflight, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        # The metrics middleware is outermost: preflights CORS answers by itself are counted too.
        after = REGISTRY.get_sample_value(PREFLIGHTS, PREFLIGHT_LABELS) or 0.0
        assert after == before + 1


PREFLIGHTS = "els_http_requests_total"
PREFLIGHT_LABELS = {"method": "OPTIONS", "route": "unmatched", "status": "200"}
