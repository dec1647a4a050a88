"""One test per row of the security issue not covered by a file of its own.

Rows 3 (PDF), 4 (quotas, rate limits), 7 (operations surfaces), 8 (slow clients) and 9 (time limits) have
their own files in this suite.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from celery.worker.worker import WorkController
from fastapi.testclient import TestClient

import services.intake
from db.models import Batch, Submission
from els.ids import scoped_id
from els.settings import Settings
from essays.detect import detect_media_type
from tests.e2e.api.conftest import ALICE, BOB, essay_text, new_batch_id, rows_of
from tests.security.test_attacks_that_held import code_of, registered
from tests.support.documents import make_docx_lying_about_size

MIB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[2]

# VmHWM, not ru_maxrss: the latter survives exec on Linux, so it would count the parent's memory too.
PEAK_RSS = """
import re, sys
from els.errors import EssayRejectedError
from essays.upload import process_upload
from essays.validate import Limits
data = open(sys.argv[1], "rb").read()
try:
    process_upload(data, "essay.docx", Limits())
    verdict = "accepted"
except EssayRejectedError as error:
    verdict = error.code
status = open("/proc/self/status").read()
print(verdict, re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1))
"""


@pytest.mark.slow
def test_row1_a_docx_lying_about_its_size_is_refused_within_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "lying.docx"
    path.write_bytes(make_docx_lying_about_size(1024 * MIB))
    run = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, str(path)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    verdict, peak_kib = run.stdout.split()
    assert verdict in ("TEXT_EXTRACTION_FAILED", "CONTENT_TOO_LONG")
    # The child's peak RSS (imports included) stays far below the 1 GiB the part inflates to.
    assert int(peak_kib) < 400 * 1024


def test_row2_upload_sniffing_runs_off_the_event_loop(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []

    def recording_detect(data: bytes, filename: str) -> object:
        threads.append(threading.current_thread().name)
        return detect_media_type(data, filename)

    monkeypatch.setattr(services.intake, "detect_media_type", recording_detect)
    batch_id = registered(client, 3)
    files = [
        ("files", (f"e{n}.txt", essay_text(f"topic number {n}").encode(), "text/plain")) for n in range(3)
    ]
    answer = client.post(f"/v1/batches/{batch_id}/essays", files=files, headers=ALICE)
    assert answer.status_code == 202, answer.text
    # Every sniff ran in a worker thread, none on the thread running the event loop.
    assert len(threads) == 3
    assert all(name.startswith("AnyIO worker thread") for name in threads), threads


def test_row5_a_refused_registration_writes_no_sql_and_leaves_its_id_free(
    client: TestClient, api_settings: Settings
) -> None:
    batch_id = new_batch_id()
    body = {"batch_id": batch_id, "expected_count": 1}
    big = client.post("/v1/batches", json={**body, "metadata": {"notes": "x" * 200_000}}, headers=ALICE)
    assert big.status_code == 422 and code_of(big.json()) == "INVALID_INPUT"
    assert rows_of(api_settings, Batch, batch_id) == 0
    assert client.post("/v1/batches", json=body, headers=ALICE).status_code == 201


def test_row6_another_owners_batch_id_is_indistinguishable_from_a_free_one(client: TestClient) -> None:
    batch_id = registered(client)
    answer = client.post("/v1/batches", json={"batch_id": batch_id, "expected_count": 1}, headers=BOB)
    assert answer.status_code == 201, answer.text
    assert answer.json()["essay_ids"] == [f"{batch_id}-001"]
    # A replay by bob is his own replay; alice's batch is still hers alone, and still expects one essay.
    again = client.post("/v1/batches", json={"batch_id": batch_id, "expected_count": 1}, headers=BOB)
    assert again.status_code == 200
    bobs = client.post(f"/v1/batches/{batch_id}/essays", json={"text": essay_text("bob's")}, headers=BOB)
    assert bobs.status_code == 202, bobs.text
    alices = client.get(f"/v1/batches/{batch_id}", headers=ALICE).json()
    assert alices["batch_id"] == batch_id and (alices["expected"], alices["assigned"]) == (1, 0)
    (slot,) = client.get(f"/v1/batches/{batch_id}/slots", headers=ALICE).json()["slots"]
    assert slot["file"] is None and slot["outcome"] == "awaiting"
    assert client.get(f"/v1/batches/{batch_id}/submissions", headers=ALICE).json()["total"] == 0


def test_row6_generated_and_explicit_essay_ids_of_another_owner_are_free(client: TestClient) -> None:
    # Bob takes the slot ids alice's batch will generate before she registers it, then her own names.
    batch_id = new_batch_id()
    slots = [f"{batch_id}-001", f"{batch_id}-002"]
    taken = client.post("/v1/batches", json={"batch_id": new_batch_id(), "essay_ids": slots}, headers=BOB)
    assert taken.status_code == 201, taken.text
    alices = client.post("/v1/batches", json={"batch_id": batch_id, "expected_count": 2}, headers=ALICE)
    assert alices.status_code == 201, alices.text
    assert alices.json()["essay_ids"] == slots
    for headers, owner_batch in ((ALICE, batch_id), (BOB, taken.json()["batch_id"])):
        essay = client.get(f"/v1/essays/{slots[0]}", headers=headers)
        assert essay.status_code == 200 and essay.json()["batch_id"] == owner_batch


def test_row6_a_scoped_id_is_not_a_public_id(client: TestClient) -> None:
    # The stored form of an id is no door into it: `~` is refused in every id an owner sends.
    batch_id = registered(client)
    scoped = scoped_id("alice", batch_id)
    for headers in (ALICE, BOB):
        assert client.get(f"/v1/batches/{scoped}", headers=headers).status_code in (404, 422)
    answer = client.post("/v1/batches", json={"batch_id": scoped, "expected_count": 1}, headers=BOB)
    assert answer.status_code == 422 and code_of(answer.json()) == "INVALID_INPUT"


def test_row6_no_answer_shows_an_owner_scoped_id(client: TestClient, els_worker: WorkController) -> None:
    batch_id = new_batch_id()
    tag = scoped_id("alice", "")
    answers = [
        client.post("/v1/batches", json={"batch_id": batch_id, "essay_ids": ["e1", "e2"]}, headers=ALICE)
    ]
    files = [
        ("files", (f"{n}.txt", essay_text(f"subject {n}").encode(), "text/plain")) for n in ("a", "b", "c")
    ]
    files.append(("files", ("copy.txt", essay_text("subject a").encode(), "text/plain")))
    answers.append(client.post(f"/v1/batches/{batch_id}/essays", files=files, headers=ALICE))
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        status = client.get(f"/v1/batches/{batch_id}", headers=ALICE)
        if status.json().get("state") == "done":
            break
        time.sleep(0.2)
    answers.append(status)
    submission_id = answers[1].json()["submissions"][0]["submission_id"]
    for path in (
        "/v1/batches?state=active",
        f"/v1/batches/{batch_id}/report",
        f"/v1/batches/{batch_id}/report.csv",
        f"/v1/batches/{batch_id}/submissions",
        f"/v1/batches/{batch_id}/slots",
        f"/v1/batches/{batch_id}/slots?limit=1",
        f"/v1/submissions/{submission_id}",
        "/v1/essays/e1",
        "/v1/essays/missing-essay",
        "/v1/webhooks/deliveries",
    ):
        answers.append(client.get(path, headers=ALICE))
    answers.append(client.post(f"/v1/batches/{batch_id}/close", headers=ALICE))
    answers.append(
        client.post("/v1/batches", json={"batch_id": batch_id, "expected_count": 9}, headers=ALICE)
    )
    assert status.json()["state"] == "done", status.text
    for answer in answers:
        assert tag not in answer.text and tag not in str(answer.headers), (answer.url, answer.text)
    assert {answer.status_code for answer in answers} <= {200, 201, 202, 404, 409}


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param('{"batch_id": "%s", "expected_count": 1, "metadata": {"x": NaN}}', id="nan"),
        pytest.param('{"batch_id": "%s", "expected_count": 1, "metadata": {"x": 1e400}}', id="1e400"),
        pytest.param('{"batch_id": "%s", "expected_count": 1, "course_code": "a\\u0000b"}', id="nul-course"),
        pytest.param('{"batch_id": "%s", "expected_count": 1, "language": "e\\u0000n"}', id="nul-language"),
        pytest.param('{"batch_id": "%s", "expected_count": 1, "metadata": {"k\\u0000": 1}}', id="nul-key"),
    ],
)
def test_row10_non_finite_numbers_and_nul_are_422_and_store_nothing(
    client: TestClient, api_settings: Settings, raw: str
) -> None:
    batch_id = new_batch_id()
    answer = client.post(
        "/v1/batches", content=raw % batch_id, headers={**ALICE, "Content-Type": "application/json"}
    )
    assert answer.status_code == 422 and code_of(answer.json()) == "INVALID_INPUT", answer.text
    assert rows_of(api_settings, Batch, batch_id) == 0


def test_row10_a_nul_in_a_json_filename_is_not_a_500(client: TestClient, api_settings: Settings) -> None:
    batch_id = registered(client)
    body = json.dumps({"filename": "a\u0000b.txt", "text": essay_text("filenames with nul")})
    answer = client.post(
        f"/v1/batches/{batch_id}/essays", content=body, headers={**ALICE, "Content-Type": "application/json"}
    )
    assert answer.status_code in (202, 422), answer.text
    assert rows_of(api_settings, Submission, batch_id) == (1 if answer.status_code == 202 else 0)


def test_row11_filenames_lose_control_characters_and_path_parts(client: TestClient) -> None:
    batch_id = registered(client)
    files = [
        (
            "files",
            ("../../etc/\x1b[31mpasswd\r\n.txt", essay_text("paths and escapes").encode(), "text/plain"),
        )
    ]
    answer = client.post(f"/v1/batches/{batch_id}/essays", files=files, headers=ALICE)
    assert answer.status_code == 202, answer.text
    [accepted] = answer.json()["submissions"]
    filename = accepted["filename"]
    # No escape character, no path: what the client's encoding left of the name, on one printable line.
    assert filename.startswith("[31mpasswd") and filename.endswith(".txt")
    assert filename.isprintable() and "/" not in filename and "\x1b" not in filename


def test_row11_the_upload_route_logs_no_unchecked_batch_id(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        answer = client.post(
            "/v1/batches/evil%0Aforged-line/essays", json={"text": essay_text("log lines")}, headers=ALICE
        )
    assert answer.status_code == 422
    # ELS's own log lines; the test client's own request log shows the URL, as any access log would.
    ours = [record for record in caplog.records if not record.name.startswith(("httpx", "httpcore"))]
    assert not [record for record in ours if "forged-line" in str(vars(record))]
