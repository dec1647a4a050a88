"""The bad-input matrix through the API: a hostile request gets its documented 4xx and stores nothing,
and a batch of hostile but acceptable uploads still completes with each failure reported."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from celery.worker.worker import WorkController
from fastapi.testclient import TestClient

from db.models import Batch
from els.settings import Settings
from tests.e2e.api.conftest import ALICE, essay_text, new_batch_id, rows_of
from tests.e2e.api.test_auth_and_errors import error_code, register, submissions_of
from tests.e2e.api.test_batches_end_to_end import wait_for_state
from tests.support.documents import make_encrypted_pdf, make_zip_bomb_docx, random_binary

HOSTILE_IDS = [
    pytest.param("*", id="star"),
    pytest.param("a:b", id="colon"),
    pytest.param("{x}", id="braces"),
    pytest.param("a" * 300, id="300-chars"),
]

REFUSED_REGISTRATIONS = [
    pytest.param({"expected_count": -1}, id="count-negative"),
    pytest.param({"expected_count": 0}, id="count-zero"),
    pytest.param({"expected_count": 10**9}, id="count-huge"),
    pytest.param({"expected_count": "three"}, id="count-string"),
    *(
        pytest.param({"essay_ids": [f"{new_batch_id()}-ok", *hostile.values]}, id=f"essay-id-{hostile.id}")
        for hostile in HOSTILE_IDS
    ),
    pytest.param({"essay_ids": [f"{new_batch_id()}-twice"] * 2}, id="essay-ids-duplicate"),
    pytest.param({"expected_count": 1, "deadline_seconds": -60}, id="deadline-negative"),
    pytest.param({"expected_count": 1, "deadline_seconds": 10**12}, id="deadline-huge"),
]


def batches_stored(settings: Settings, batch_id: str) -> int:
    """How many batch rows SQL holds under `batch_id`."""
    return rows_of(settings, Batch, batch_id)


def assert_no_batch(client: TestClient, settings: Settings, batch_id: str) -> None:
    """Neither SQL nor the coordinator knows `batch_id`."""
    assert batches_stored(settings, batch_id) == 0
    status = client.get(f"/v1/batches/{batch_id}", headers=ALICE)
    assert status.status_code == 404, status.text


@pytest.mark.parametrize("fields", REFUSED_REGISTRATIONS)
def test_hostile_registration_is_invalid_input_and_stores_no_batch(
    client: TestClient, api_settings: Settings, fields: dict[str, object]
) -> None:
    batch_id = new_batch_id()
    answer = client.post("/v1/batches", json={"batch_id": batch_id, **fields}, headers=ALICE)
    assert answer.status_code == 422, answer.text
    assert error_code(answer.json()) == "INVALID_INPUT"
    assert_no_batch(client, api_settings, batch_id)


def test_huge_count_is_above_the_configured_maximum(api_settings: Settings) -> None:
    assert api_settings.max_expected_essays < 10**9
    assert api_settings.max_deadline_seconds < 10**12


def test_truncated_json_registration_is_invalid_input_and_stores_no_batch(
    client: TestClient, api_settings: Settings
) -> None:
    batch_id = new_batch_id()
    truncated = f'{{"batch_id": "{batch_id}", "expected_count": 3'.encode()
    answer = client.post(
        "/v1/batches", content=truncated, headers={**ALICE, "Content-Type": "application/json"}
    )
    assert answer.status_code == 422, answer.text
    assert error_code(answer.json()) == "INVALID_INPUT"
    assert_no_batch(client, api_settings, batch_id)


@pytest.mark.parametrize("hostile", HOSTILE_IDS)
def test_hostile_batch_id_in_the_path_is_invalid_input_and_stores_nothing(
    client: TestClient, api_settings: Settings, hostile: str
) -> None:
    path = f"/v1/batches/{quote(hostile, safe='')}"
    answers = {
        "status": client.get(path, headers=ALICE),
        "report": client.get(f"{path}/report", headers=ALICE),
        "upload": client.post(f"{path}/essays", json={"text": essay_text("hostile paths")}, headers=ALICE),
    }
    for name, answer in answers.items():
        assert answer.status_code == 422, (name, answer.text)
        assert error_code(answer.json()) == "INVALID_INPUT", name
    assert submissions_of(api_settings, hostile) == 0
    assert batches_stored(api_settings, hostile) == 0


def test_random_binary_named_txt_is_unsupported_and_stores_nothing(
    client: TestClient, api_settings: Settings
) -> None:
    batch_id = register(client, count=2)
    files = [
        ("files", ("fine.txt", essay_text("tides follow the moon").encode(), "text/plain")),
        ("files", ("essay.txt", random_binary(4096), "text/plain")),
    ]
    answer = client.post(f"/v1/batches/{batch_id}/essays", files=files, headers=ALICE)
    assert answer.status_code == 415, answer.text
    assert error_code(answer.json()) == "UNSUPPORTED_TYPE"
    assert submissions_of(api_settings, batch_id) == 0


def latin1_essay() -> bytes:
    """A real essay carrying Latin-1 bytes that are not valid UTF-8."""
    head, tail = essay_text("harbours shelter fishing boats").split(". ", 1)
    return f"{head}. ".encode() + b"The caf\xe9 owner was na\xefve \xabbut kind\xbb. " + tail.encode()


def test_batch_of_hostile_but_accepted_uploads_completes(
    client: TestClient, api_settings: Settings, els_worker: WorkController
) -> None:
    uploads = {
        "empty.txt": b"",
        "bomb.docx": make_zip_bomb_docx(),
        "locked.pdf": make_encrypted_pdf(essay_text("locked drawers keep secrets")),
        "latin1.txt": latin1_essay(),
        "good.txt": essay_text("orchards bloom in spring").encode(),
    }
    expected = {
        "empty.txt": ("failed", "EMPTY_CONTENT"),
        "bomb.docx": ("failed", "TEXT_EXTRACTION_FAILED"),
        "locked.pdf": ("failed", "ENCRYPTED_FILE"),
        "latin1.txt": ("analysed", None),
        "good.txt": ("analysed", None),
    }
    batch_id = register(client, count=len(uploads))
    files = [("files", (name, data, "application/octet-stream")) for name, data in uploads.items()]
    answer = client.post(f"/v1/batches/{batch_id}/essays", files=files, headers=ALICE)
    assert answer.status_code == 202, answer.text
    submitted = {item["filename"]: item["submission_id"] for item in answer.json()["submissions"]}
    assert set(submitted) == set(uploads)
    assert submissions_of(api_settings, batch_id) == len(uploads)

    done = wait_for_state(client, batch_id, "done")
    assert (done["expected"], done["assigned"], done["failed"]) == (5, 2, 3)
    listed = client.get(f"/v1/batches/{batch_id}/slots", headers=ALICE).json()
    slot_of = {slot["file"]["submission_id"]: slot["essay_id"] for slot in listed["slots"] if slot["file"]}

    report = client.get(f"/v1/batches/{batch_id}/report", headers=ALICE)
    assert report.status_code == 200, report.text
    body = report.json()["report"]
    assert body["counts"]["analysed"] == 2
    assert body["counts"]["failed"] == 3
    rows = {row["essay_id"]: row for row in body["essays"]}
    row_of = {name: rows[slot_of[submission_id]] for name, submission_id in submitted.items()}
    assert {name: (row["status"], row["code"]) for name, row in row_of.items()} == expected
    assert row_of["latin1.txt"]["analysis"]["words"] > 0
