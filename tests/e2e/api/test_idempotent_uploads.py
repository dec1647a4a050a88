"""An Idempotency-Key names one stored upload: a replay answers what is stored, whatever the batch's
state, and a key reused for other bytes is refused without storing anything. A new upload, keyed or
not, needs the batch OPEN and its deadline not passed."""

from __future__ import annotations

import time
import uuid
from datetime import datetime

from celery.worker.worker import WorkController
from fastapi.testclient import TestClient

from coordinator import now_ms
from els.settings import Settings
from tests.e2e.api.conftest import ALICE, BOB, essay_text, new_batch_id
from tests.e2e.api.test_auth_and_errors import error_code, register, submissions_of
from tests.e2e.api.test_batches_end_to_end import wait_for_state

FIRST = essay_text("glaciers carve fjords")
SECOND = essay_text("lighthouses guide ships")


def keyed(key: str) -> dict[str, str]:
    """Alice's headers with an Idempotency-Key."""
    return {**ALICE, "Idempotency-Key": key}


def files(*named: tuple[str, str]) -> list[tuple[str, tuple[str, bytes, str]]]:
    """Multipart `files` fields for (filename, text) pairs."""
    return [("files", (name, text.encode(), "text/plain")) for name, text in named]


def test_a_key_reused_for_a_different_file_is_refused_and_stores_nothing(
    client: TestClient, api_settings: Settings
) -> None:
    batch_id = register(client, count=3)
    key = f"k-{uuid.uuid4().hex}"
    first = client.post(f"/v1/batches/{batch_id}/essays", files=files(("a.txt", FIRST)), headers=keyed(key))
    assert first.status_code == 202, first.text
    reused = client.post(f"/v1/batches/{batch_id}/essays", files=files(("b.txt", SECOND)), headers=keyed(key))
    assert reused.status_code == 422, reused.text
    assert error_code(reused.json()) == "IDEMPOTENCY_KEY_REUSED"
    assert submissions_of(api_settings, batch_id) == 1


def test_a_retry_with_the_files_reordered_is_refused_not_mapped_onto_other_files(
    client: TestClient, api_settings: Settings
) -> None:
    batch_id = register(client, count=3)
    key = f"k-{uuid.uuid4().hex}"
    sent = client.post(
        f"/v1/batches/{batch_id}/essays", files=files(("a.txt", FIRST), ("b.txt", SECOND)), headers=keyed(key)
    )
    assert sent.status_code == 202, sent.text
    reordered = client.post(
        f"/v1/batches/{batch_id}/essays", files=files(("b.txt", SECOND), ("a.txt", FIRST)), headers=keyed(key)
    )
    assert reordered.status_code == 422, reordered.text
    assert error_code(reordered.json()) == "IDEMPOTENCY_KEY_REUSED"
    assert submissions_of(api_settings, batch_id) == 2


def test_a_true_replay_answers_the_stored_filename_and_submission(client: TestClient) -> None:
    batch_id = register(client, count=2)
    key = f"k-{uuid.uuid4().hex}"
    first = client.post(f"/v1/batches/{batch_id}/essays", files=files(("a.txt", FIRST)), headers=keyed(key))
    renamed = client.post(
        f"/v1/batches/{batch_id}/essays", files=files(("renamed.txt", FIRST)), headers=keyed(key)
    )
    assert (first.status_code, renamed.status_code) == (202, 202), renamed.text
    stored = first.json()["submissions"][0]
    assert renamed.json()["submissions"] == [{**stored, "replayed": True}]
    assert stored["filename"] == "a.txt"


def test_a_replay_after_the_batch_closed_returns_the_stored_answer(
    client: TestClient, api_settings: Settings, els_worker: WorkController
) -> None:
    batch_id = register(client, count=1)
    key = f"k-{uuid.uuid4().hex}"
    first = client.post(f"/v1/batches/{batch_id}/essays", files=files(("a.txt", FIRST)), headers=keyed(key))
    assert first.status_code == 202, first.text
    wait_for_state(client, batch_id, "done")

    replay = client.post(f"/v1/batches/{batch_id}/essays", files=files(("a.txt", FIRST)), headers=keyed(key))
    assert replay.status_code == 202, replay.text
    assert replay.json()["submissions"] == [{**first.json()["submissions"][0], "replayed": True}]

    new_key = f"k-{uuid.uuid4().hex}"
    late = client.post(
        f"/v1/batches/{batch_id}/essays", files=files(("late.txt", SECOND)), headers=keyed(new_key)
    )
    assert late.status_code == 409 and error_code(late.json()) == "BATCH_NOT_OPEN"
    stranger = client.post(
        f"/v1/batches/{batch_id}/essays",
        files=files(("a.txt", FIRST)),
        headers={**BOB, "Idempotency-Key": key},
    )
    assert stranger.status_code == 404 and error_code(stranger.json()) == "NOT_FOUND"
    assert submissions_of(api_settings, batch_id) == 1


def test_an_upload_after_the_deadline_is_refused_and_stores_nothing(
    client: TestClient, api_settings: Settings
) -> None:
    batch_id = new_batch_id()
    answer = client.post(
        "/v1/batches", json={"batch_id": batch_id, "expected_count": 2, "deadline_seconds": 1}, headers=ALICE
    )
    assert answer.status_code == 201, answer.text
    deadline_ms = int(datetime.fromisoformat(answer.json()["deadline_at"]).timestamp() * 1000)
    while now_ms() < deadline_ms:  # no sweep runs; the deadline's countdown may expire it meanwhile
        time.sleep(0.05)
    unkeyed = client.post(f"/v1/batches/{batch_id}/essays", files=files(("a.txt", FIRST)), headers=ALICE)
    keyed_late = client.post(
        f"/v1/batches/{batch_id}/essays",
        files=files(("b.txt", SECOND)),
        headers=keyed(f"k-{uuid.uuid4().hex}"),
    )
    for late in (unkeyed, keyed_late):
        assert late.status_code == 409 and error_code(late.json()) == "BATCH_NOT_OPEN"
        details = late.json()["error"]["details"]
        # Still OPEN past its deadline (refused for the deadline), or expired already by its countdown.
        if details["state"] == "open":
            assert details == {"batch_id": batch_id, "state": "open", "reason": "deadline_passed"}
            assert "deadline" in late.json()["error"]["message"]
        else:
            assert details["state"] in ("expired", "finalizing", "done"), details
    assert submissions_of(api_settings, batch_id) == 0
