"""The status answer from the counters (one Redis call, no slot) and the slots a page at a time."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import pytest
from celery.worker.worker import WorkController
from fastapi import FastAPI
from fastapi.testclient import TestClient

from coordinator import Coordinator
from els.ids import owner_tag
from els.settings import Settings
from services.runtime import Runtime
from tests.e2e.api.conftest import ALICE, BOB, essay_text, new_batch_id
from tests.e2e.api.test_batches_end_to_end import wait_for_state
from tests.support.redis_calls import CountingRedis, counting_client

OWNER_TAGS = (owner_tag("alice"), owner_tag("bob"))


def register(client: TestClient, count: int) -> str:
    batch_id = new_batch_id()
    created = client.post("/v1/batches", json={"batch_id": batch_id, "expected_count": count}, headers=ALICE)
    assert created.status_code == 201, created.text
    return batch_id


def every_page(client: TestClient, batch_id: str, limit: int) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = (
            {"limit": limit} if cursor is None else {"limit": limit, "cursor": cursor}
        )
        answer = client.get(f"/v1/batches/{batch_id}/slots", params=params, headers=ALICE)
        assert answer.status_code == 200, answer.text
        assert not any(tag in answer.text for tag in OWNER_TAGS)
        body = answer.json()
        assert body["batch_id"] == batch_id
        pages.append(body["slots"])
        if body["next_cursor"] is None:
            return pages
        cursor = body["next_cursor"]


@pytest.fixture
def counted_app(client: TestClient, api_settings: Settings) -> Iterator[CountingRedis]:
    """The app's coordinator on a client that counts its commands, for the length of one test."""
    app = client.app
    assert isinstance(app, FastAPI)
    runtime = app.state.els
    assert isinstance(runtime, Runtime)
    with counting_client(api_settings.redis_url) as counting:
        coordinator = Coordinator.from_settings(api_settings, counting)
        app.state.els = dataclasses.replace(runtime, coordinator=coordinator)
        try:
            yield counting
        finally:
            app.state.els = runtime


def test_status_counts_and_pages_of_slots_tied_to_their_files(
    client: TestClient, els_worker: WorkController
) -> None:
    batch_id = register(client, 7)
    files = [
        ("files", ("anna.txt", essay_text("volcanoes erupt slowly").encode(), "text/plain")),
        ("files", ("ben.txt", essay_text("gardens need patient care").encode(), "text/plain")),
        ("files", ("short.txt", b"too short", "text/plain")),
    ]
    assert client.post(f"/v1/batches/{batch_id}/essays", files=files, headers=ALICE).status_code == 202
    body: dict[str, Any] = {}
    for _ in range(600):
        body = client.get(f"/v1/batches/{batch_id}", headers=ALICE).json()
        if body["assigned"] + body["failed"] >= 3:
            break
        time.sleep(0.1)
    assert (body["expected"], body["assigned"], body["failed"], body["missing"]) == (7, 2, 1, 0)
    assert body["state"] == "open" and body["created_at"] and body["closed_at"] is None
    assert not {"slots", "essays", "missing_essay_ids", "refused"} & body.keys()

    pages = every_page(client, batch_id, 3)
    assert [len(page) for page in pages] == [3, 3, 1]
    slots = [slot for page in pages for slot in page]
    assert [slot["position"] for slot in slots] == list(range(7))
    assert [slot["essay_id"] for slot in slots] == [f"{batch_id}-{n:03d}" for n in range(1, 8)]
    filled = {slot["file"]["filename"]: slot["outcome"] for slot in slots[:3]}
    assert filled == {"anna.txt": "assigned", "ben.txt": "assigned", "short.txt": "failed"}
    assert {slot["outcome"] for slot in slots[3:]} == {"awaiting"}
    (whole,) = every_page(client, batch_id, 100)  # one page holds them all
    assert [(slot["essay_id"], slot["outcome"]) for slot in whole] == [
        (slot["essay_id"], slot["outcome"]) for slot in slots
    ]

    assert client.post(f"/v1/batches/{batch_id}/close", headers=ALICE).status_code == 200
    closed = client.get(f"/v1/batches/{batch_id}", headers=ALICE).json()
    assert closed["missing"] == 4 and closed["closed_at"] is not None
    after = [slot for page in every_page(client, batch_id, 5) for slot in page]
    assert [slot["outcome"] for slot in after[3:]] == ["missing"] * 4
    done = wait_for_state(client, batch_id, "done")
    assert done["missing"] == 4
    analysed = [slot for page in every_page(client, batch_id, 2) for slot in page]
    assert [slot["state"] for slot in analysed[:3] if slot["outcome"] == "assigned"] == ["analysed"] * 2


def test_another_owners_batch_answers_404_like_an_unknown_one(client: TestClient) -> None:
    batch_id = register(client, 2)
    unknown_id = new_batch_id()
    for path in ("", "/slots"):
        foreign = client.get(f"/v1/batches/{batch_id}{path}", headers=BOB)
        unknown = client.get(f"/v1/batches/{unknown_id}{path}", headers=BOB)
        assert foreign.status_code == unknown.status_code == 404
        assert foreign.json()["error"]["code"] == unknown.json()["error"]["code"] == "NOT_FOUND"
        assert foreign.json()["error"]["details"] == {"batch_id": batch_id}
        assert (
            foreign.json()["error"]["message"].replace(batch_id, unknown_id)
            == unknown.json()["error"]["message"]
        )
        assert not any(tag in foreign.text for tag in OWNER_TAGS)


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 501},
        {"cursor": "not-a-cursor!"},
        {"cursor": "c2xvdDotMQ"},
        {"cursor": "A" * 33},
    ],
)
def test_a_bad_cursor_or_limit_is_a_422(client: TestClient, params: dict[str, str | int]) -> None:
    batch_id = register(client, 2)
    answer = client.get(f"/v1/batches/{batch_id}/slots", params=params, headers=ALICE)
    assert answer.status_code == 422, answer.text


def test_the_status_route_makes_one_redis_call_whatever_the_batch_size(
    client: TestClient, counted_app: CountingRedis, api_settings: Settings
) -> None:
    small, large = register(client, 1), register(client, api_settings.max_expected_essays)
    for batch_id in (small, large):
        counted_app.commands.clear()
        answer = client.get(f"/v1/batches/{batch_id}", headers=ALICE)
        assert answer.status_code == 200, answer.text
        assert counted_app.commands == ["HMGET"]
    # A page of slots is one script call too, however far into the batch it starts.
    first = client.get(f"/v1/batches/{large}/slots", params={"limit": 10}, headers=ALICE).json()
    counted_app.commands.clear()
    following = client.get(
        f"/v1/batches/{large}/slots", params={"limit": 10, "cursor": first["next_cursor"]}, headers=ALICE
    )
    assert following.status_code == 200 and len(following.json()["slots"]) == 10
    assert counted_app.commands == ["EVALSHA"]


def test_the_openapi_document_shows_counts_in_the_status_and_a_paged_slot_listing(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    status = schemas["BatchStatusBody"]["properties"]
    assert {"missing", "created_at", "deadline_at", "closed_at"} <= status.keys()
    assert not {"slots", "essays", "missing_essay_ids", "refused"} & status.keys()
    listing = spec["paths"]["/v1/batches/{batch_id}/slots"]["get"]
    assert listing["operationId"] == "list_batch_slots"
    params = {param["name"]: param["schema"] for param in listing["parameters"] if param["in"] == "query"}
    assert params["limit"]["maximum"] == 500 and params["limit"]["default"] == 100
    assert params["cursor"]["anyOf"][0]["maxLength"] == 32
    assert schemas["SlotList"]["properties"]["slots"]["items"] == {"$ref": "#/components/schemas/SlotBody"}
