"""Issue row 4: one token can no longer fill Redis or SQL, nor hammer authentication.

Each refusal is 429 with Retry-After and a stable code, and writes nothing: no SQL row, no batch key.
"""

from __future__ import annotations

import uuid

import httpx

from db.models import Batch, Submission
from els.settings import Settings
from tests.e2e.api.conftest import essay_text, rows_of
from tests.security.conftest import Serve, owner_tokens, redis_keys


def code_of(answer: httpx.Response) -> str:
    """The stable error code of an error answer."""
    body = answer.json()
    assert isinstance(body, dict)
    return str(body["error"]["code"])


def batch_body(batch_id: str, count: int = 5) -> dict[str, object]:
    """A registration by count."""
    return {"batch_id": batch_id, "expected_count": count}


def test_open_batches_quota_refuses_the_next_batch_and_writes_nothing(
    serve: Serve, api_settings: Settings
) -> None:
    owner = f"q{uuid.uuid4().hex[:8]}"
    tokens, headers = owner_tokens(api_settings, owner)
    with serve(api_tokens=tokens, quota_open_batches=2) as served:
        api = served.client
        ids = [f"sec-{uuid.uuid4().hex[:12]}" for _ in range(3)]
        for batch_id in ids[:2]:
            answer = api.post("/v1/batches", json=batch_body(batch_id), headers=headers[owner])
            assert answer.status_code == 201, answer.text
        batch_keys = redis_keys(served.settings, "*:batch:*")
        refused = api.post("/v1/batches", json=batch_body(ids[2]), headers=headers[owner])
        assert refused.status_code == 429, refused.text
        assert code_of(refused) == "QUOTA_EXCEEDED"
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.json()["error"]["details"]["quota"] == "open_batches"
        # Nothing written: no row, no batch key.
        assert rows_of(api_settings, Batch, ids[2]) == 0
        assert redis_keys(served.settings, "*:batch:*") == batch_keys
        # A replay of a counted batch is not a new batch: it still answers 200.
        replay = api.post("/v1/batches", json=batch_body(ids[0]), headers=headers[owner])
        assert replay.status_code == 200, replay.text


def test_open_slots_quota_counts_slots_over_the_owners_batches_and_not_other_owners(
    serve: Serve, api_settings: Settings
) -> None:
    alice, bob = f"qa{uuid.uuid4().hex[:8]}", f"qb{uuid.uuid4().hex[:8]}"
    tokens, headers = owner_tokens(api_settings, alice, bob)
    with serve(api_tokens=tokens, quota_open_slots=10) as served:
        api = served.client
        first = api.post(
            "/v1/batches", json=batch_body(f"sec-{uuid.uuid4().hex[:12]}", 6), headers=headers[alice]
        )
        assert first.status_code == 201, first.text
        over_id = f"sec-{uuid.uuid4().hex[:12]}"
        over = api.post("/v1/batches", json=batch_body(over_id, 5), headers=headers[alice])
        assert over.status_code == 429 and code_of(over) == "QUOTA_EXCEEDED", over.text
        assert over.json()["error"]["details"]["quota"] == "open_slots"
        assert rows_of(api_settings, Batch, over_id) == 0
        # Another owner has its own quota.
        other = api.post(
            "/v1/batches", json=batch_body(f"sec-{uuid.uuid4().hex[:12]}", 10), headers=headers[bob]
        )
        assert other.status_code == 201, other.text


def test_a_refused_registration_gives_its_quota_back(serve: Serve, api_settings: Settings) -> None:
    owner = f"q{uuid.uuid4().hex[:8]}"
    tokens, headers = owner_tokens(api_settings, owner)
    with serve(api_tokens=tokens, quota_open_batches=2) as served:
        api = served.client
        batch_id = f"sec-{uuid.uuid4().hex[:12]}"
        assert api.post("/v1/batches", json=batch_body(batch_id), headers=headers[owner]).status_code == 201
        # The same id with another request is 409: it must not hold a quota place.
        for _ in range(3):
            conflict = api.post("/v1/batches", json=batch_body(batch_id, 7), headers=headers[owner])
            assert conflict.status_code == 409, conflict.text
        second = api.post(
            "/v1/batches", json=batch_body(f"sec-{uuid.uuid4().hex[:12]}"), headers=headers[owner]
        )
        assert second.status_code == 201, second.text


def test_uploads_per_day_quota_refuses_before_anything_is_stored(
    serve: Serve, api_settings: Settings
) -> None:
    owner = f"q{uuid.uuid4().hex[:8]}"
    tokens, headers = owner_tokens(api_settings, owner)
    with serve(api_tokens=tokens, quota_uploads_per_day=1) as served:
        api = served.client
        batch_id = f"sec-{uuid.uuid4().hex[:12]}"
        assert api.post("/v1/batches", json=batch_body(batch_id), headers=headers[owner]).status_code == 201
        text = {"filename": "a.txt", "text": essay_text("rivers and their deltas")}
        first = api.post(f"/v1/batches/{batch_id}/essays", json=text, headers=headers[owner])
        assert first.status_code == 202, first.text
        second = api.post(f"/v1/batches/{batch_id}/essays", json=text, headers=headers[owner])
        assert second.status_code == 429 and code_of(second) == "QUOTA_EXCEEDED", second.text
        assert second.json()["error"]["details"]["quota"] == "uploads_per_day"
        assert int(second.headers["Retry-After"]) >= 1
        assert rows_of(api_settings, Submission, batch_id) == 1


def test_upload_bytes_per_day_quota(serve: Serve, api_settings: Settings) -> None:
    owner = f"q{uuid.uuid4().hex[:8]}"
    tokens, headers = owner_tokens(api_settings, owner)
    with serve(api_tokens=tokens, quota_upload_bytes_per_day=100) as served:
        api = served.client
        batch_id = f"sec-{uuid.uuid4().hex[:12]}"
        assert api.post("/v1/batches", json=batch_body(batch_id), headers=headers[owner]).status_code == 201
        text = {"filename": "a.txt", "text": essay_text("mountains and glaciers of the north")}
        refused = api.post(f"/v1/batches/{batch_id}/essays", json=text, headers=headers[owner])
        assert refused.status_code == 429 and code_of(refused) == "QUOTA_EXCEEDED", refused.text
        assert refused.json()["error"]["details"]["quota"] == "upload_bytes_per_day"
        assert rows_of(api_settings, Submission, batch_id) == 0


def test_failed_authentications_per_address_turn_into_429_even_for_a_good_token(
    serve: Serve, api_settings: Settings
) -> None:
    owner = f"r{uuid.uuid4().hex[:8]}"
    tokens, headers = owner_tokens(api_settings, owner)
    with serve(api_tokens=tokens, auth_failures_per_address="5/minute") as served:
        api = served.client
        answers = [
            api.get("/v1/batches", headers={"Authorization": f"Bearer wrong-{n}"}).status_code
            for n in range(50)
        ]
        assert answers[:5] == [401] * 5
        assert set(answers[5:]) == {429}
        blocked = api.get("/v1/batches", headers=headers[owner])
        assert blocked.status_code == 429 and code_of(blocked) == "RATE_LIMITED"
        assert int(blocked.headers["Retry-After"]) >= 1
        # The counters are a bounded handful of keys, however many attempts were made.
        assert redis_keys(served.settings, "*limits*") <= 4
        # Health probes are never limited.
        assert api.get("/healthz").status_code == 200


def test_rate_limit_per_token_and_per_address(serve: Serve, api_settings: Settings) -> None:
    alice, bob = f"ra{uuid.uuid4().hex[:8]}", f"rb{uuid.uuid4().hex[:8]}"
    tokens, headers = owner_tokens(api_settings, alice, bob)
    with serve(
        api_tokens=tokens, rate_limit_per_token="3/minute", rate_limit_per_address="8/minute"
    ) as served:
        api = served.client
        alice_answers = [api.get("/v1/batches", headers=headers[alice]).status_code for _ in range(5)]
        assert alice_answers == [200, 200, 200, 429, 429]
        # Bob's token has its own budget; the address's (8) runs out after three more requests in all.
        bob_answers = [api.get("/v1/batches", headers=headers[bob]).status_code for _ in range(5)]
        assert bob_answers == [200, 200, 200, 429, 429]
        last = api.get("/v1/batches", headers=headers[bob])
        assert last.status_code == 429 and code_of(last) == "RATE_LIMITED"
        assert "address" in last.json()["error"]["message"]
