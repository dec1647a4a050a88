"""The cluster checker on made-up histories: a clean one passes, and each broken promise is caught with
its check's name and a slice of the history. Needs no service and no root."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest

from tests.cluster.checker import check
from tests.cluster.faults import KINDS, plan_faults
from tests.cluster.history import Entry, History

BATCH = "tag~b0"
DEADLINE = 1000.0


def clean_run() -> tuple[History, dict[str, Entry], dict[str, Entry]]:
    """Two slots, three uploads (two assigned, one duplicate), closed by count, one completion event."""
    history = History(seed=7)
    history.record("ok", op="register", batch=BATCH, deadline=DEADLINE)
    for number in range(3):
        history.record("invoke", op="upload", batch=BATCH, key=f"k{number}")
        history.record(
            "ok", op="upload", batch=BATCH, key=f"k{number}", submission=f"s{number}", created=True
        )
    history.record("event", type="batch.completed", event_id="e1", batch=BATCH)
    history.record("event", type="batch.completed", event_id="e1", batch=BATCH)  # redelivered: one event
    records = [
        {"essay_id": f"{BATCH}-001", "submission_id": "s0", "outcome": "assigned"},
        {"essay_id": f"{BATCH}-002", "submission_id": "s1", "outcome": "assigned"},
    ]
    final: dict[str, Any] = {
        BATCH: {
            "sql": {
                "state": "done",
                "closed_as": "sealed",
                "deadline": DEADLINE,
                "closed_at": 900.0,
                "report_counts": {"analysed": 2},
                "completion_events_in_outbox": 1,
            },
            "submissions": {
                "s0": {"state": "ready", "essay_id": f"{BATCH}-001", "sha256": "aa"},
                "s1": {"state": "ready", "essay_id": f"{BATCH}-002", "sha256": "bb"},
                "s2": {"state": "duplicate", "essay_id": f"{BATCH}-001", "sha256": "aa"},
            },
            "redis": {
                "state": "done",
                "closed_as": "sealed",
                "expected": 2,
                "assigned": 2,
                "failed": 0,
                "excess": 0,
                "duplicates": 1,
                "deadline": DEADLINE,
                "closed_at": 900.0,
                "missing": 0,
                "records": records,
            },
        }
    }
    return history, {BATCH: {"expected": 2, "expires": False}}, final


def test_a_clean_history_passes() -> None:
    history, plan, final = clean_run()
    verdict = check(history, plan, final)
    assert verdict.violations == []
    assert verdict.totals["uploads_accepted"] == 3 and verdict.totals["duplicates"] == 1


def break_slot(final: dict[str, Any]) -> None:
    final[BATCH]["redis"]["records"][1]["essay_id"] = f"{BATCH}-001"
    final[BATCH]["submissions"]["s1"]["essay_id"] = f"{BATCH}-001"


def break_completion(final: dict[str, Any]) -> None:
    final[BATCH]["sql"]["completion_events_in_outbox"] = 2


def break_agreement(final: dict[str, Any]) -> None:
    final[BATCH]["submissions"]["s2"]["state"] = "excess"


def break_deadline(final: dict[str, Any]) -> None:
    for store in ("sql", "redis"):
        final[BATCH][store]["closed_as"] = "expired"
        final[BATCH][store]["closed_at"] = DEADLINE - 5


def break_settling(final: dict[str, Any]) -> None:
    final[BATCH]["submissions"]["s2"]["state"] = "processing"
    final[BATCH]["redis"]["duplicates"] = 0


@pytest.mark.parametrize(
    ("breaking", "expected"),
    [
        (break_slot, "slot_once"),
        (break_completion, "one_completion"),
        (break_agreement, "sql_equals_redis"),
        (break_deadline, "deadline"),
        (break_settling, "upload_once"),
    ],
)
def test_each_broken_promise_is_named_with_its_history(breaking: Any, expected: str) -> None:
    history, plan, final = clean_run()
    broken = copy.deepcopy(final)
    breaking(broken)
    verdict = check(history, plan, broken)
    assert expected in {violation["check"] for violation in verdict.violations}
    assert all(violation["history"] for violation in verdict.violations)


def test_one_key_answered_with_two_submissions_is_caught() -> None:
    history, plan, final = clean_run()
    history.record("ok", op="upload", batch=BATCH, key="k0", submission="s9", created=True)
    verdict = check(history, plan, final)
    assert any("k0" in violation["detail"] for violation in verdict.violations)


def test_a_seed_replays_the_same_schedule_with_every_kind_of_fault() -> None:
    hosts = ["w1", "w2", "w3"]
    first = plan_faults(11, KINDS["all"], hosts, lease=8, until=60)
    assert first == plan_faults(11, KINDS["all"], hosts, lease=8, until=60)
    assert first != plan_faults(12, KINDS["all"], hosts, lease=8, until=60)
    assert {fault.kind for fault in first} == set(KINDS["all"])
    assert all(fault.until <= 60 for fault in first)
    for host in hosts:
        spans = sorted((fault.at, fault.until) for fault in first if fault.host == host)
        assert all(end <= start for (_, end), (start, _) in itertools.pairwise(spans))
