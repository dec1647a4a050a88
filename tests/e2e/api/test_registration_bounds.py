"""Registration checks everything before its first write: a refused registration stores nothing and
leaves its batch id free, input SQL cannot hold is 422 (never 500), and ids fit what they generate."""

from __future__ import annotations

import json
import uuid

import pytest
from fastapi.testclient import TestClient

from els.settings import Settings
from tests.e2e.api.conftest import ALICE, new_batch_id
from tests.e2e.api.test_auth_and_errors import error_code, register, submissions_of
from tests.e2e.api.test_bad_inputs import assert_no_batch

JSON = {**ALICE, "Content-Type": "application/json"}


def deep(levels: int) -> dict[str, object]:
    """An object nested `levels` deep."""
    value: dict[str, object] = {}
    for _ in range(levels - 1):
        value = {"k": value}
    return value


def test_oversized_metadata_is_refused_before_any_write_and_the_batch_id_stays_free(
    client: TestClient, api_settings: Settings
) -> None:
    batch_id = new_batch_id()
    body = {"batch_id": batch_id, "expected_count": 1}
    big = client.post("/v1/batches", json={**body, "metadata": {"notes": "x" * 100_000}}, headers=ALICE)
    assert big.status_code == 422, big.text
    assert error_code(big.json()) == "INVALID_INPUT"
    assert_no_batch(client, api_settings, batch_id)
    corrected = client.post("/v1/batches", json={**body, "metadata": {"notes": "short"}}, headers=ALICE)
    assert corrected.status_code == 201, corrected.text


@pytest.mark.parametrize(
    "metadata",
    [
        pytest.param(deep(9), id="nine-levels"),
        pytest.param({f"k{n}": n for n in range(257)}, id="257-keys"),
    ],
)
def test_metadata_too_deep_or_with_too_many_keys_is_invalid_input(
    client: TestClient, api_settings: Settings, metadata: dict[str, object]
) -> None:
    batch_id = new_batch_id()
    answer = client.post(
        "/v1/batches", json={"batch_id": batch_id, "expected_count": 1, "metadata": metadata}, headers=ALICE
    )
    assert answer.status_code == 422, answer.text
    assert error_code(answer.json()) == "INVALID_INPUT"
    assert_no_batch(client, api_settings, batch_id)


UNSTORABLE_FIELDS = [
    pytest.param('"metadata": {"x": NaN}', id="metadata-nan"),
    pytest.param('"metadata": {"x": 1e400}', id="metadata-overflow"),
    pytest.param('"metadata": {"x": -Infinity}', id="metadata-infinity"),
    pytest.param('"metadata": {"x": "a\\u0000b"}', id="metadata-nul-value"),
    pytest.param('"metadata": {"a\\u0000": 1}', id="metadata-nul-key"),
    pytest.param('"metadata": {"x": ["\\u0007"]}', id="metadata-control-in-list"),
    pytest.param('"metadata": {"x": "\\ud800"}', id="metadata-lone-surrogate"),
    pytest.param('"course_code": "EN\\u0000G"', id="course-code-nul"),
    pytest.param('"course_code": "EN\\u001bG"', id="course-code-escape"),
    pytest.param('"language": "e\\u0000"', id="language-nul"),
]


@pytest.mark.parametrize("field", UNSTORABLE_FIELDS)
def test_input_sql_cannot_hold_is_invalid_input_not_a_server_error(
    client: TestClient, api_settings: Settings, field: str
) -> None:
    batch_id = new_batch_id()
    raw = f'{{"batch_id": "{batch_id}", "expected_count": 1, {field}}}'
    answer = client.post("/v1/batches", content=raw.encode(), headers=JSON)
    assert answer.status_code == 422, answer.text
    assert error_code(answer.json()) == "INVALID_INPUT"
    assert_no_batch(client, api_settings, batch_id)


@pytest.mark.parametrize("dots", [".", ".."])
def test_dot_batch_and_essay_ids_are_invalid_input(client: TestClient, dots: str) -> None:
    by_id = client.post("/v1/batches", json={"batch_id": dots, "expected_count": 1}, headers=ALICE)
    essays = client.post("/v1/batches", json={"essay_ids": [dots]}, headers=ALICE)
    for answer in (by_id, essays):
        assert answer.status_code == 422, answer.text
        assert error_code(answer.json()) == "INVALID_INPUT"


def test_a_json_filename_with_control_characters_is_invalid_input(
    client: TestClient, api_settings: Settings
) -> None:
    batch_id = register(client)
    raw = json.dumps({"text": "An essay about tides.", "filename": "a\u0000b.txt"})
    answer = client.post(f"/v1/batches/{batch_id}/essays", content=raw.encode(), headers=JSON)
    assert answer.status_code == 422, answer.text
    assert error_code(answer.json()) == "INVALID_INPUT"
    assert submissions_of(api_settings, batch_id) == 0


def test_filenames_are_stored_and_echoed_without_path_parts_or_control_characters(
    client: TestClient,
) -> None:
    batch_id = register(client, count=2)
    text = "Rivers carry silt to the sea and build deltas where they slow down. " * 3
    by_json = client.post(
        f"/v1/batches/{batch_id}/essays",
        json={"text": text, "filename": "../../secret/json.txt"},
        headers=ALICE,
    )
    assert by_json.status_code == 202, by_json.text
    assert by_json.json()["submissions"][0]["filename"] == "json.txt"
    boundary = "b0undary"
    multipart = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="files"; filename="C:\\\\tmp\\\\be\x07ll.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\n{text} Deltas shift.\r\n--{boundary}--\r\n"
    ).encode()
    by_form = client.post(
        f"/v1/batches/{batch_id}/essays",
        content=multipart,
        headers={**ALICE, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert by_form.status_code == 202, by_form.text
    assert by_form.json()["submissions"][0]["filename"] == "bell.txt"


def test_a_batch_id_too_long_for_its_generated_essay_ids_names_the_batch_id(client: TestClient) -> None:
    stem = f"long-{uuid.uuid4().hex}"
    too_long = (stem * 2)[:61]
    answer = client.post("/v1/batches", json={"batch_id": too_long, "expected_count": 2}, headers=ALICE)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["details"] == {"field": "batch_id", "limit": 60}
    assert "explicit essay_ids" in error["message"]
    fits = client.post("/v1/batches", json={"batch_id": too_long[:60], "expected_count": 2}, headers=ALICE)
    assert fits.status_code == 201, fits.text
    assert fits.json()["essay_ids"][-1] == f"{too_long[:60]}-002"


def test_an_essay_id_of_another_batch_is_essay_id_taken(client: TestClient) -> None:
    essay_id = f"e-{uuid.uuid4().hex[:12]}"
    first = client.post(
        "/v1/batches", json={"batch_id": new_batch_id(), "essay_ids": [essay_id]}, headers=ALICE
    )
    assert first.status_code == 201, first.text
    batch_id = new_batch_id()
    second = client.post("/v1/batches", json={"batch_id": batch_id, "essay_ids": [essay_id]}, headers=ALICE)
    assert second.status_code == 409, second.text
    assert error_code(second.json()) == "ESSAY_ID_TAKEN"
