"""What owners see: close and cancel, every slot tied to its file, submissions, the CSV and API polish."""

from __future__ import annotations

import csv
import io
import time

import redis
from celery.worker.worker import WorkController
from fastapi.testclient import TestClient

from coordinator import Coordinator
from els.ids import scoped_id
from els.settings import Settings
from tests.e2e.api.conftest import ALICE, BOB, essay_text, new_batch_id
from tests.e2e.api.test_batches_end_to_end import wait_for_state


def register(client: TestClient, batch_id: str, count: int, **extra: object) -> None:
    created = client.post(
        "/v1/batches", json={"batch_id": batch_id, "expected_count": count, **extra}, headers=ALICE
    )
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"/v1/batches/{batch_id}"


def test_close_seals_now_and_the_report_names_every_file(
    client: TestClient, els_worker: WorkController
) -> None:
    batch_id = new_batch_id()
    register(client, batch_id, 4)
    first = essay_text("volcanoes erupt slowly").encode()
    files = [
        ("files", ("anna.txt", first, "text/plain")),
        ("files", ("ben copy.txt", first, "text/plain")),
        ("files", ("=cmd.txt", b"too short", "text/plain")),
    ]
    assert client.post(f"/v1/batches/{batch_id}/essays", files=files, headers=ALICE).status_code == 202
    # Wait until every file is settled, then close: the fourth student never hands in.
    for _ in range(600):
        body = client.get(f"/v1/batches/{batch_id}", headers=ALICE).json()
        if body["assigned"] + body["failed"] + body["duplicates"] >= 3:
            break
        time.sleep(0.1)

    assert client.post(f"/v1/batches/{batch_id}/close", headers=BOB).status_code == 404
    closed = client.post(f"/v1/batches/{batch_id}/close", headers=ALICE)
    assert closed.status_code == 200, closed.text
    assert closed.json()["state"] == "closed" and not closed.json()["replayed"]
    assert closed.json()["missing_essay_ids"] == [f"{batch_id}-003", f"{batch_id}-004"]
    again = client.post(f"/v1/batches/{batch_id}/close", headers=ALICE).json()
    assert again["replayed"] and again["missing_essay_ids"] == closed.json()["missing_essay_ids"]
    assert client.post(f"/v1/batches/{batch_id}/cancel", headers=ALICE).status_code == 409

    done = wait_for_state(client, batch_id, "done")
    assert done["missing"] == 2
    listed = client.get(f"/v1/batches/{batch_id}/slots", headers=ALICE).json()
    slots = {slot["essay_id"]: slot for slot in listed["slots"]}
    assert slots[f"{batch_id}-003"]["outcome"] == "missing"
    filenames = sorted(slot["file"]["filename"] for slot in slots.values() if slot["file"])
    # The same content twice: whichever settled first holds the slot, the other is its duplicate.
    holder = filenames[1]
    assert filenames[0] == "=cmd.txt" and holder in ("anna.txt", "ben copy.txt")
    report = client.get(f"/v1/batches/{batch_id}/report", headers=ALICE)
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["report"]["counts"]["missing"] == 2
    assert [item["filename"] for item in body["files_refused"]] == ["=cmd.txt"]
    assert body["files_refused"][0]["code"] == "CONTENT_TOO_SHORT" and body["files_refused"][0]["message"]
    (pair,) = body["duplicates"]
    assert pair["of_filename"] == holder
    assert {pair["file"]["filename"], pair["of_filename"]} == {"anna.txt", "ben copy.txt"}
    assert body["missing_essay_ids"] == [f"{batch_id}-003", f"{batch_id}-004"]

    exported = client.get(f"/v1/batches/{batch_id}/report.csv", headers=ALICE)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 4
    by_file = {row["filename"]: row for row in rows}
    assert "'=cmd.txt" in by_file  # a formula-looking cell is quoted
    assert by_file[holder]["outcome"] == "assigned" and int(by_file[holder]["words"]) > 20
    assert client.get(f"/v1/batches/{batch_id}/report.csv", headers=BOB).status_code == 404

    listed = client.get(f"/v1/batches/{batch_id}/submissions", params={"limit": 2}, headers=ALICE).json()
    assert listed["total"] == 3 and len(listed["submissions"]) == 2 and listed["next_offset"] == 2
    rest = client.get(f"/v1/batches/{batch_id}/submissions", params={"offset": 2}, headers=ALICE).json()
    assert len(rest["submissions"]) == 1 and rest["next_offset"] is None
    one = listed["submissions"][0]
    single = client.get(f"/v1/submissions/{one['submission_id']}", headers=ALICE)
    assert single.status_code == 200 and single.json()["filename"] == one["filename"]
    assert single.json()["size"] > 0 and single.json()["media_type"]
    assert client.get(f"/v1/submissions/{one['submission_id']}", headers=BOB).status_code == 404


def test_cancel_ends_the_batch_without_a_report_and_refuses_uploads(
    client: TestClient, els_worker: WorkController
) -> None:
    batch_id = new_batch_id()
    register(client, batch_id, 2)
    assert client.post(f"/v1/batches/{batch_id}/cancel", headers=BOB).status_code == 404
    cancelled = client.post(f"/v1/batches/{batch_id}/cancel", headers=ALICE)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "cancelled" and not cancelled.json()["replayed"]
    assert client.post(f"/v1/batches/{batch_id}/cancel", headers=ALICE).json()["replayed"]
    files = [("files", ("late.txt", essay_text("rivers carve valleys").encode(), "text/plain"))]
    refused = client.post(f"/v1/batches/{batch_id}/essays", files=files, headers=ALICE)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "BATCH_NOT_OPEN"
    status = wait_for_state(client, batch_id, "cancelled")
    assert status["missing"] == 2
    listed = client.get(f"/v1/batches/{batch_id}/slots", headers=ALICE).json()["slots"]
    assert [(slot["essay_id"], slot["outcome"]) for slot in listed] == [
        (f"{batch_id}-001", "missing"),
        (f"{batch_id}-002", "missing"),
    ]
    report = client.get(f"/v1/batches/{batch_id}/report", headers=ALICE)
    assert report.status_code == 409


def test_registration_refuses_a_language_the_analysers_lack(client: TestClient) -> None:
    answer = client.post(
        "/v1/batches",
        json={"batch_id": new_batch_id(), "expected_count": 1, "language": "tlh"},
        headers=ALICE,
    )
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "UNSUPPORTED_LANGUAGE"


def test_a_refused_upload_is_named_in_the_415(client: TestClient) -> None:
    batch_id = new_batch_id()
    register(client, batch_id, 1)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    files = [
        ("files", ("ok.txt", essay_text("tides follow the moon").encode(), "text/plain")),
        ("files", ("class photo.png", png, "image/png")),
    ]
    answer = client.post(f"/v1/batches/{batch_id}/essays", files=files, headers=ALICE)
    assert answer.status_code == 415
    error = answer.json()["error"]
    assert "class photo.png" in error["message"] and error["details"]["filename"] == "class photo.png"


def test_operation_ids_are_stable_and_the_report_is_typed(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    ids = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert {
        "register_batch",
        "upload_essays",
        "get_batch",
        "list_batches",
        "get_batch_report",
        "get_batch_report_csv",
        "close_batch",
        "cancel_batch",
        "list_batch_submissions",
        "list_batch_slots",
        "get_submission",
        "get_essay",
    } <= ids
    report = spec["components"]["schemas"]["BatchReport"]["properties"]["report"]
    assert report == {"$ref": "#/components/schemas/ReportBody"}


def test_a_finished_batch_past_retention_answers_410_pointing_at_its_report(
    client: TestClient, els_worker: WorkController, api_settings: Settings, redis_client: redis.Redis
) -> None:
    batch_id = new_batch_id()
    register(client, batch_id, 1)
    files = [("files", ("only.txt", essay_text("bridges carry heavy loads").encode(), "text/plain"))]
    assert client.post(f"/v1/batches/{batch_id}/essays", files=files, headers=ALICE).status_code == 202
    wait_for_state(client, batch_id, "done")
    coordinator = Coordinator.from_settings(api_settings, redis_client)
    redis_client.delete(
        coordinator.config.keys.batch(scoped_id("alice", batch_id)).hash
    )  # as retention would
    gone = client.get(f"/v1/batches/{batch_id}", headers=ALICE)
    assert gone.status_code == 410, gone.text
    error = gone.json()["error"]
    assert error["code"] == "BATCH_GONE" and error["details"]["report"] == f"/v1/batches/{batch_id}/report"
    assert client.get(f"/v1/batches/{batch_id}/report", headers=ALICE).status_code == 200
    assert client.get(f"/v1/batches/{batch_id}", headers=BOB).status_code == 404
