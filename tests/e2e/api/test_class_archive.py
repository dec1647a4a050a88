"""`POST /v1/batches/{id}/archive`: a class ZIP becomes one submission per essay file, the rest reported."""

from __future__ import annotations

import io
import time
import zipfile

from celery.worker.worker import WorkController
from fastapi.testclient import TestClient

from db.models import Submission
from els.settings import Settings
from tests.e2e.api.conftest import ALICE, BOB, essay_text, new_batch_id, rows_of
from tests.support.documents import make_docx

ZIP = {"Content-Type": "application/zip"}


def class_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("7B/alice.txt", essay_text("rivers and valleys"))
        archive.writestr("7B/bob.docx", make_docx(essay_text("libraries and towns")))
        archive.writestr("7B/photo.png", b"\x89PNG\r\n\x1a\n" + bytes(64))
        archive.writestr("__MACOSX/7B/._alice.txt", b"\x00\x05\x16\x07")
        archive.writestr("../escape.txt", essay_text("escaping"))
    return buffer.getvalue()


def test_a_class_archive_fills_one_slot_per_essay_file_and_names_the_rest(
    client: TestClient, api_settings: Settings, els_worker: WorkController
) -> None:
    batch_id = new_batch_id()
    created = client.post("/v1/batches", json={"batch_id": batch_id, "expected_count": 2}, headers=ALICE)
    assert created.status_code == 201, created.text
    answer = client.post(f"/v1/batches/{batch_id}/archive", content=class_zip(), headers={**ALICE, **ZIP})
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert [item["filename"] for item in body["submissions"]] == ["7B > alice.txt", "7B > bob.docx"]
    assert body["skipped"] == [
        {"name": "__MACOSX/7B/._alice.txt", "reason": "hidden"},
        {"name": "../escape.txt", "reason": "unsafe_path"},
    ]
    assert [(item["name"], item["code"]) for item in body["refused"]] == [
        ("7B/photo.png", "UNSUPPORTED_TYPE")
    ]
    assert rows_of(api_settings, Submission, batch_id) == 2
    deadline = time.monotonic() + 90
    status: dict[str, object] = {}
    while time.monotonic() < deadline and status.get("assigned") != 2:
        status = client.get(f"/v1/batches/{batch_id}", headers=ALICE).json()
        time.sleep(0.2)
    assert status.get("assigned") == 2, status


def test_another_owner_cannot_send_an_archive_and_a_bomb_is_refused_whole(client: TestClient) -> None:
    batch_id = new_batch_id()
    client.post("/v1/batches", json={"batch_id": batch_id, "expected_count": 2}, headers=ALICE)
    foreign = client.post(f"/v1/batches/{batch_id}/archive", content=class_zip(), headers={**BOB, **ZIP})
    assert foreign.status_code == 404
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.txt", b"a" * (32 * 1024 * 1024))
    bomb = client.post(f"/v1/batches/{batch_id}/archive", content=buffer.getvalue(), headers={**ALICE, **ZIP})
    assert bomb.status_code == 422
    assert bomb.json()["error"]["code"] == "ARCHIVE_REFUSED"
    wrong_type = client.post(f"/v1/batches/{batch_id}/archive", content=b"{}", headers=ALICE)
    assert wrong_type.status_code == 415
