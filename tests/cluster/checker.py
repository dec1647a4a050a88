"""The checks over a run's history and final state; each violation names its check, its batch and the
slice of the history that shows it.

Checks: every accepted upload is accounted for exactly once (one submission per idempotency key, stored
once, settled once in Redis); the slots add up (a batch that is not to expire fills up); no slot is held
by two submissions (Redis or SQL); every batch ends DONE in both stores with exactly one completion event
in the outbox and on the exchange; SQL agrees with Redis batch by batch and slot by slot; no batch closes
before its deadline, and none expires with uploads accepted in time counted as excess.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.cluster.history import Entry, History

FINAL = {"ready", "failed", "excess", "duplicate"}
HOLDERS = {"ready", "failed"}
# Reports one violation of the batch being checked: (check, detail).
Fail = Callable[[str, str], None]


@dataclass
class Verdict:
    """The violations found, and the totals of the run."""

    violations: list[Entry] = field(default_factory=list)
    totals: Counter[str] = field(default_factory=Counter)

    def add(self, history: History, check: str, batch: str, detail: str) -> None:
        """Record one violation with the history slice of its batch."""
        self.violations.append(
            {"check": check, "batch": batch, "detail": detail, "history": history.about(batch)}
        )


def check(history: History, plan: dict[str, Entry], final: dict[str, Entry]) -> Verdict:
    """Check the run; `plan` maps scoped batch id -> {"expected", "expires"}, `final` is `snapshot`'s."""
    verdict = Verdict()
    accepted = accepted_uploads(history, verdict)
    completions = completion_events(history)
    for batch_id, planned in plan.items():
        state = final.get(batch_id)
        if state is None:
            verdict.add(history, "final_state", batch_id, "no final state recorded")
            continue
        check_batch(
            history, verdict, batch_id, planned, state, accepted.get(batch_id, {}), completions[batch_id]
        )
    return verdict


def accepted_uploads(history: History, verdict: Verdict) -> dict[str, dict[str, str]]:
    """Accepted submissions by batch (submission id -> idempotency key); flags a key given two ids."""
    by_key: dict[str, set[str]] = defaultdict(set)
    batches: dict[str, dict[str, str]] = defaultdict(dict)
    for entry in history.entries:
        if entry["kind"] == "ok" and entry["op"] == "upload":
            by_key[entry["key"]].add(entry["submission"])
            batches[entry["batch"]][entry["submission"]] = entry["key"]
            verdict.totals["uploads_accepted"] += 1
    for key, ids in by_key.items():
        if len(ids) > 1:
            batch = next(b for b, subs in batches.items() if key in subs.values())
            verdict.add(history, "upload_once", batch, f"key {key} answered with {sorted(ids)}")
    return batches


def completion_events(history: History) -> Counter[str]:
    """Distinct batch.completed events consumed, per scoped batch id."""
    seen = {
        (entry["batch"], entry["event_id"])
        for entry in history.entries
        if entry["kind"] == "event" and entry["type"] == "batch.completed"
    }
    return Counter(batch for batch, _ in seen)


def check_batch(
    history: History,
    verdict: Verdict,
    batch_id: str,
    planned: Entry,
    state: Entry,
    accepted: dict[str, str],
    completions: int,
) -> None:
    """Every check of one batch."""

    def fail(check_name: str, detail: str) -> None:
        verdict.add(history, check_name, batch_id, detail)

    sql: Entry | None = state["sql"]
    live: Entry | None = state["redis"]
    subs: dict[str, Entry] = state["submissions"]
    if sql is None or live is None:
        fail("final_state", f"missing from {'SQL' if sql is None else 'Redis'}")
        return
    verdict.totals["batches"] += 1
    for submission in accepted:
        if submission not in subs:
            fail("upload_once", f"accepted {submission} not stored")
        elif subs[submission]["state"] not in FINAL:
            fail("upload_once", f"{submission} never settled: {subs[submission]['state']}")
    for submission in set(subs) - set(accepted):
        fail("upload_once", f"{submission} stored but never accepted by any answer")
    settled = live["assigned"] + live["failed"] + live["excess"] + live["duplicates"]
    if settled != len(accepted):
        fail("upload_once", f"{len(accepted)} uploads accepted, {settled} settled in Redis")
    check_slots(fail, live, subs)
    taken = live["assigned"] + live["failed"]
    if taken + live["missing"] != planned["expected"] or (
        not planned["expires"] and taken != planned["expected"]
    ):
        fail("slots_add_up", f"{taken} slots taken, {live['missing']} missing of {planned['expected']}")
    if live["state"] != "done" or sql["state"] != "done":
        fail("final_state", f"Redis {live['state']}, SQL {sql['state']}")
    if sql["completion_events_in_outbox"] != 1 or completions != 1:
        fail(
            "one_completion",
            f"{sql['completion_events_in_outbox']} completion events in the outbox, {completions} consumed",
        )
    check_agreement(fail, sql, live, subs)
    check_deadline(fail, planned, sql, live)
    verdict.totals["assigned"] += live["assigned"]
    verdict.totals["excess"] += live["excess"]
    verdict.totals["duplicates"] += live["duplicates"]
    verdict.totals["missing"] += live["missing"]
    verdict.totals["expired"] += int(live["closed_as"] == "expired")


def check_slots(fail: Fail, live: Entry, subs: dict[str, Entry]) -> None:
    """No slot held twice, no submission in two slots, no content behind two slots (Redis and SQL)."""
    records: list[Entry] = live["records"]
    essay_ids = Counter(record["essay_id"] for record in records)
    holders = Counter(record["submission_id"] for record in records)
    for essay_id, count in essay_ids.items():
        if count > 1:
            fail("slot_once", f"Redis: slot {essay_id} held by {count} submissions")
    for submission, count in holders.items():
        if count > 1:
            fail("slot_once", f"Redis: {submission} holds {count} slots")
    # A duplicate names the slot whose content it repeats; only ready and failed submissions hold one.
    sql_slots = Counter(
        sub["essay_id"] for sub in subs.values() if sub["essay_id"] is not None and sub["state"] in HOLDERS
    )
    for essay_id, count in sql_slots.items():
        if count > 1:
            fail("slot_once", f"SQL: slot {essay_id} held by {count} submissions")
    assigned = [
        r["submission_id"] for r in records if r["outcome"] == "assigned" and r["submission_id"] in subs
    ]
    hashes = Counter(subs[submission]["sha256"] for submission in assigned)
    for digest, count in hashes.items():
        if count > 1:
            fail("slot_once", f"content {digest[:12]} behind {count} slots")


def check_agreement(fail: Fail, sql: Entry, live: Entry, subs: dict[str, Entry]) -> None:
    """SQL's counts, close and slot holders equal Redis's."""
    states = Counter(sub["state"] for sub in subs.values())
    # A failure settled after the batch closed takes no slot: Redis counts it as excess.
    late_failures = sum(1 for sub in subs.values() if sub["state"] == "failed" and sub["essay_id"] is None)
    sql_counts = (
        states["ready"],
        states["failed"] - late_failures,
        states["excess"] + late_failures,
        states["duplicate"],
    )
    live_counts = (live["assigned"], live["failed"], live["excess"], live["duplicates"])
    if sql_counts != live_counts:
        fail(
            "sql_equals_redis",
            f"SQL (assigned, failed, excess, duplicates) {sql_counts} != Redis {live_counts}",
        )
    if sql["closed_as"] != live["closed_as"]:
        fail("sql_equals_redis", f"closed as {sql['closed_as']} in SQL, {live['closed_as']} in Redis")
    for record in live["records"]:
        held = subs.get(record["submission_id"])
        if held is None or held["essay_id"] != record["essay_id"]:
            fail(
                "sql_equals_redis",
                f"Redis gives slot {record['essay_id']} to {record['submission_id']}, SQL does not",
            )
    counts = sql["report_counts"]
    if not isinstance(counts, dict) or counts.get("analysed") != live["assigned"]:
        fail("sql_equals_redis", f"report counts {counts} do not match Redis {live_counts}")


def check_deadline(fail: Fail, planned: Entry, sql: Entry, live: Entry) -> None:
    """An expired batch closed at or after its deadline, and only a batch planned to expire did."""
    expired = live["closed_as"] == "expired"
    if expired != planned["expires"]:
        fail("deadline", f"closed as {live['closed_as']}; planned to expire: {planned['expires']}")
    for where, closed, deadline in (
        ("Redis", live["closed_at"], live["deadline"]),
        ("SQL", sql["closed_at"], sql["deadline"]),
    ):
        if expired and (closed is None or closed < deadline - 0.001):
            fail("deadline", f"{where}: expired at {closed}, before its deadline {deadline}")
    if expired and live["missing"] > 0 and live["excess"] > 0:
        fail(
            "deadline",
            f"expired with {live['missing']} free slots but {live['excess']} uploads in time as excess",
        )
