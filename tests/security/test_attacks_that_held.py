"""Regression tests for the attacks that were handled, each asserting the refusal and what it wrote.

Auth fails closed; another owner's resources are 404; ids cannot inject keys, hash tags or SQL; pickle is
refused; XXE and billion laughs are blocked; encrypted PDFs are rejected; body caps answer 413.
"""

from __future__ import annotations

import hashlib
import pickle

import pytest
from fastapi.testclient import TestClient
from kombu.exceptions import ContentDisallowed
from kombu.serialization import loads

import celeryconfig
from db.models import Batch, Submission
from els.errors import EssayRejectedError, RejectionCode
from els.settings import Settings
from essays.upload import process_upload
from essays.validate import Limits
from tests.e2e.api.conftest import ALICE, BOB, essay_text, new_batch_id, rows_of
from tests.security.conftest import redis_keys
from tests.support.documents import make_docx_with_body, make_encrypted_pdf

HOSTILE_IDS = [
    "x}{s01}",  # a hash tag of another shard
    "a:batch:b",  # a key separator
    "b*",  # a SCAN pattern
    "'; DROP TABLE batches; --",
    "a%00b",
    "..",
    ".",
    "x" * 65,
]


def code_of(body: object) -> str:
    assert isinstance(body, dict)
    error = body["error"]
    assert isinstance(error, dict)
    return str(error["code"])


def registered(client: TestClient, count: int = 1) -> str:
    batch_id = new_batch_id()
    answer = client.post("/v1/batches", json={"batch_id": batch_id, "expected_count": count}, headers=ALICE)
    assert answer.status_code == 201, answer.text
    return batch_id


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-token"),
        pytest.param({"Authorization": "Bearer"}, id="empty-token"),
        pytest.param({"Authorization": "Basic YWxpY2U6YWxpY2U="}, id="basic-scheme"),
        pytest.param({"Authorization": "Bearer ALICE-TOKEN-FOR-TESTS"}, id="other-case"),
        pytest.param(
            {"Authorization": f"Bearer {hashlib.sha256(b'alice-token-for-tests').hexdigest()}"},
            id="the-digest-itself",
        ),
    ],
)
def test_auth_fails_closed_and_writes_nothing(
    client: TestClient, api_settings: Settings, headers: dict[str, str]
) -> None:
    batch_id = new_batch_id()
    answer = client.post("/v1/batches", json={"batch_id": batch_id, "expected_count": 1}, headers=headers)
    assert answer.status_code == 401 and code_of(answer.json()) == "UNAUTHORIZED"
    assert rows_of(api_settings, Batch, batch_id) == 0


def test_another_owners_resources_are_404_and_writes_nothing(
    client: TestClient, api_settings: Settings
) -> None:
    batch_id = registered(client)
    for path in (f"/v1/batches/{batch_id}", f"/v1/batches/{batch_id}/report", f"/v1/essays/{batch_id}-001"):
        answer = client.get(path, headers=BOB)
        assert answer.status_code == 404 and code_of(answer.json()) == "NOT_FOUND", path
    upload = client.post(
        f"/v1/batches/{batch_id}/essays", json={"text": essay_text("stolen words")}, headers=BOB
    )
    assert upload.status_code == 404
    assert rows_of(api_settings, Submission, batch_id) == 0
    listed = client.get("/v1/batches", headers=BOB).json()["batches"]
    assert batch_id not in {line["batch_id"] for line in listed}


@pytest.mark.parametrize("hostile", HOSTILE_IDS)
def test_hostile_ids_inject_no_key_hash_tag_or_sql(
    client: TestClient, api_settings: Settings, hostile: str
) -> None:
    keys = redis_keys(api_settings)
    answer = client.post("/v1/batches", json={"batch_id": hostile, "expected_count": 1}, headers=ALICE)
    assert answer.status_code == 422 and code_of(answer.json()) == "INVALID_INPUT", answer.text
    essay_ids = client.post(
        "/v1/batches", json={"batch_id": new_batch_id(), "essay_ids": [hostile]}, headers=ALICE
    )
    assert essay_ids.status_code == 422, essay_ids.text
    assert rows_of(api_settings, Batch, hostile) == 0
    # The table is still there, and no key was added (other tests' keys can only have expired meanwhile).
    assert client.get("/v1/batches", headers=ALICE).status_code == 200
    assert redis_keys(api_settings) <= keys + 4  # at most the rate-limit windows that started meanwhile


def test_pickle_is_refused_by_the_worker_configuration() -> None:
    config = celeryconfig.build(Settings())
    assert config["accept_content"] == ["json"] and config["task_serializer"] == "json"
    payload = pickle.dumps({"boom": 1})
    with pytest.raises(ContentDisallowed):
        loads(payload, "application/x-python-serialize", "binary", accept={"json"})
    assert pickle.loads(payload) == {"boom": 1}


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:body><w:p><w:r><w:t>&lol3;</w:t></w:r></w:p></w:body></w:document>"""


@pytest.mark.parametrize("body", [pytest.param(XXE, id="xxe"), pytest.param(LAUGHS, id="billion-laughs")])
def test_xxe_and_billion_laughs_are_refused_before_any_entity_is_read(body: bytes) -> None:
    with pytest.raises(EssayRejectedError) as refused:
        process_upload(make_docx_with_body(body), "essay.docx", Limits())
    assert refused.value.code == RejectionCode.TEXT_EXTRACTION_FAILED
    assert "root:" not in refused.value.message and "lollol" not in refused.value.message


def test_an_encrypted_pdf_is_rejected() -> None:
    with pytest.raises(EssayRejectedError) as refused:
        process_upload(make_encrypted_pdf(essay_text("secrets kept")), "essay.pdf", Limits())
    assert refused.value.code == RejectionCode.ENCRYPTED_FILE


def test_body_caps_answer_413_and_store_nothing(client: TestClient, api_settings: Settings) -> None:
    batch_id = registered(client)
    declared = client.post(
        f"/v1/batches/{batch_id}/essays",
        content=b"x" * 16,
        headers={
            **ALICE,
            "Content-Type": "application/json",
            "Content-Length": str(api_settings.max_request_bytes + 1),
        },
    )
    assert declared.status_code == 413 and code_of(declared.json()) == "PAYLOAD_TOO_LARGE"
    big_file = client.post(
        f"/v1/batches/{batch_id}/essays",
        files=[("files", ("big.txt", b"word " * (api_settings.max_upload_bytes // 5 + 1), "text/plain"))],
        headers=ALICE,
    )
    assert big_file.status_code == 413, big_file.text
    assert rows_of(api_settings, Submission, batch_id) == 0
