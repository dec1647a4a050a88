"""The compose deployment end to end, as an operator runs it: build, up, real traffic, faults, down.

Over HTTP with a token from the env file, on 127.0.0.1 only. Every wait is bounded by the state it waits
for, never by a clock assertion.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

import httpx
import pytest

from tests.deploy.stack import Stack, run
from tests.support.documents import make_docx, make_pdf
from tests.support.prometheus import sample

# The first test also builds the image and starts the stack (the session fixture).
pytestmark = [pytest.mark.deploy, pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(1500)]

Files = Sequence[tuple[str, bytes]]


def essay_text(topic: str) -> str:
    """A distinct essay of well over the minimum word count."""
    body = " ".join(
        f"{topic} matters because students learn {word} through practice." for word in topic.split()
    )
    return f"{body} Reading and writing about {topic} every week builds habits that last a lifetime."


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {stack.token}"}
    with httpx.Client(base_url=stack.api, headers=headers, timeout=60) as client:
        yield client


def register(api: httpx.Client, count: int, deadline_seconds: int = 3600) -> str:
    answer = api.post("/v1/batches", json={"expected_count": count, "deadline_seconds": deadline_seconds})
    assert answer.status_code == 201, answer.text
    batch_id: str = answer.json()["batch_id"]
    return batch_id


def upload(api: httpx.Client, batch_id: str, files: Files) -> None:
    parts = [("files", (name, data, "application/octet-stream")) for name, data in files]
    answer = api.post(f"/v1/batches/{batch_id}/essays", files=parts)
    assert answer.status_code == 202, answer.text


def status(api: httpx.Client, batch_id: str) -> dict[str, object]:
    answer = api.get(f"/v1/batches/{batch_id}")
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def report(api: httpx.Client, batch_id: str, timeout: float = 300) -> dict[str, object]:
    """The batch's final report, polled for until it exists."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            answer = api.get(f"/v1/batches/{batch_id}/report")
        except httpx.TransportError:  # the API itself may be reconnecting after a Redis restart
            answer = None
        if answer is not None and answer.status_code == 200:
            body: dict[str, object] = answer.json()["report"]
            return body
        if time.monotonic() > deadline:
            detail = answer.text if answer is not None else "no answer"
            raise AssertionError(f"no report for {batch_id} within {timeout:.0f} s: {detail}")
        time.sleep(1)


def counts(body: dict[str, object]) -> dict[str, object]:
    raw = body["counts"]
    assert isinstance(raw, dict)
    return raw


def distinct_essays(prefix: str, count: int) -> list[tuple[str, bytes]]:
    return [
        (f"{prefix}-{n:02d}.txt", essay_text(f"{prefix} topic number {n} of rivers").encode())
        for n in range(count)
    ]


def test_beat_expires_a_short_deadline_batch(api: httpx.Client) -> None:
    batch_id = register(api, 3, deadline_seconds=5)
    upload(api, batch_id, [("only.txt", essay_text("lighthouses guide ships home").encode())])
    body = report(api, batch_id, timeout=180)
    assert counts(body)["analysed"] == 1
    assert counts(body)["missing"] == 2
    assert status(api, batch_id)["state"] == "done"


def test_six_uploads_reach_the_report_and_flower_lists_their_tasks(api: httpx.Client, stack: Stack) -> None:
    good = essay_text("orchards bloom in spring").encode()
    files = [
        ("orchard.txt", good),
        ("harbour.txt", essay_text("harbours shelter small boats").encode()),
        ("museum.docx", make_docx(essay_text("museums keep the past alive"))),
        ("volcano.pdf", make_pdf(essay_text("volcanoes shape new land"))),
        ("copy-of-orchard.txt", good),
        ("empty.txt", b""),
    ]
    batch_id = register(api, 5)
    upload(api, batch_id, files)
    body = report(api, batch_id)
    got = counts(body)
    assert (got["expected"], got["analysed"], got["failed"], got["duplicates"], got["missing"]) == (
        5,
        4,
        1,
        1,
        0,
    )
    essays = body["essays"]
    assert isinstance(essays, list)
    assert sorted(str(row["code"]) for row in essays if row["status"] == "failed") == ["EMPTY_CONTENT"]

    assert httpx.get(f"{stack.flower}/api/tasks", timeout=30).status_code == 401
    listed = httpx.get(f"{stack.flower}/api/tasks", auth=stack.flower_auth, timeout=30)
    assert listed.status_code == 200, listed.text
    names = [task.get("name") for task in listed.json().values()]
    assert names.count("els.process_essay") >= len(files)

    # The prefork children's counts, summed by the worker's main process.
    metrics = stack.worker_metrics()
    assert sample(metrics, "els_claims_total", outcome="assigned") >= 4
    assert sample(metrics, "els_failures_total", code="EMPTY_CONTENT") >= 1


def test_flower_password_is_not_on_any_command_line(stack: Stack) -> None:
    secret = stack.flower_auth[1]
    for service in ("flower", "api", "worker"):
        processes = stack("exec", "-T", service, "sh", "-c", "cat /proc/[0-9]*/cmdline | tr '\\0' ' '").stdout
        assert secret not in processes, service
    flower = run(
        ["docker", "inspect", "-f", "{{json .Args}} {{json .Path}}", stack.container("flower")]
    ).stdout
    assert secret not in flower


def test_a_worker_killed_mid_batch_loses_nothing(api: httpx.Client, stack: Stack) -> None:
    files = distinct_essays("killed", 24)
    batch_id = register(api, len(files))
    upload(api, batch_id, files)
    while True:  # kill it once it has settled some essays, and before it settled all
        seen = status(api, batch_id)
        assert seen["state"] == "open", "the batch finished before the worker could be killed"
        if isinstance(seen["assigned"], int) and seen["assigned"] >= 1:
            break
        time.sleep(0.2)
    worker = stack.container("worker")
    run(["docker", "kill", worker])
    stack("start", "worker")
    body = report(api, batch_id, timeout=400)
    got = counts(body)
    assert (got["expected"], got["analysed"], got["failed"], got["missing"]) == (24, 24, 0, 0)


def test_a_redis_restart_loses_nothing(api: httpx.Client, stack: Stack) -> None:
    assert stack.redis_cli("redis", "CONFIG", "GET", "appendonly").split() == ["appendonly", "yes"]
    assert stack.redis_cli("broker", "CONFIG", "GET", "maxmemory-policy").split() == [
        "maxmemory-policy",
        "noeviction",
    ]
    finished = register(api, 1)
    upload(api, finished, [("before.txt", essay_text("bridges carry roads over rivers").encode())])
    report(api, finished)
    files = distinct_essays("restart", 6)
    batch_id = register(api, len(files))
    upload(api, batch_id, files[:3])
    stack("restart", "redis", "broker")
    stack.wait_healthy(("redis", "broker", "api"))
    for _ in range(60):  # the API reconnects on its own; the first call after a restart may fail
        try:
            if status(api, batch_id)["state"] == "open":
                break
        except (httpx.TransportError, AssertionError):
            time.sleep(1)
    upload(api, batch_id, files[3:])
    body = report(api, batch_id, timeout=400)
    got = counts(body)
    assert (got["expected"], got["analysed"], got["failed"], got["missing"]) == (6, 6, 0, 0)
    # The live state of a batch finished before the restart came back from the append-only file.
    assert (status(api, finished)["state"], status(api, finished)["assigned"]) == ("done", 1)
