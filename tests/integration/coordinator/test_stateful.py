"""The scripts against a plain-Python model of one batch, driven by hypothesis through random histories.

Receipts, claims, failures, registration (possibly after arrivals were parked), expiry (held for
receipts in flight, up to the late grace) and finalization happen in any order; after every step the
coordinator's answer and its status must equal the model's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import redis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from coordinator import BatchState, Coordinator, Outcome, SlotResult
from els.settings import Settings
from tests.conftest import REDIS_URL
from tests.integration.coordinator.support import NOW, register

SUBMISSIONS = st.sampled_from([f"s{n}" for n in range(8)])
CONTENTS = st.sampled_from([f"h{n}" for n in range(5)])
DEADLINE_IN = 1_000_000
LEASE = 10_000
GRACE = Settings().late_grace_seconds * 1000


@dataclass
class Recorded:
    outcome: Outcome
    essay_id: str | None
    slot: int | None


@dataclass
class BatchModel:
    """What one batch must look like: the rules of claim.lua, fail.lua and register.lua in Python."""

    batch_id: str
    expected: int
    registered: bool = False
    state: BatchState = BatchState.OPEN
    records: dict[str, Recorded] = field(default_factory=dict)
    holders: dict[str, str] = field(default_factory=dict)
    parked: list[tuple[str, str, str]] = field(default_factory=list)
    consumed: int = 0
    assigned: int = 0
    failed: int = 0
    excess: int = 0
    duplicates: int = 0
    token: str | None = None
    expired_by_a_claim: bool = False
    receipts: set[str] = field(default_factory=set)
    inflight: int = 0

    def take(
        self, kind: str, submission: str, content: str, *, past_deadline: bool = False
    ) -> tuple[Recorded, bool, bool]:
        """The outcome of a claim or failure on a registered batch: (record, closed it, replayed)."""
        if submission in self.records:
            return self.records[submission], False, True
        received = submission in self.receipts  # receipts are taken only in time
        if received:
            self.inflight -= 1
        late = past_deadline and not received and self.state is BatchState.OPEN
        closed = late and self.inflight == 0
        if closed:
            self.state, self.expired_by_a_claim = BatchState.EXPIRED, True
        # The last upload received in time settling past the deadline expires the batch once recorded.
        expire_after = self.state is BatchState.OPEN and received and past_deadline and self.inflight <= 0
        if kind == "claim" and content in self.holders:
            self.duplicates += 1
            self.records[submission] = Recorded(Outcome.DUPLICATE, self.holders[content], None)
            if expire_after:
                self.state, self.expired_by_a_claim = BatchState.EXPIRED, True
            return self.records[submission], closed or expire_after, False
        if self.state is not BatchState.OPEN or late:
            self.excess += 1
            self.records[submission] = Recorded(Outcome.EXCESS, None, None)
            return self.records[submission], closed, False
        essay_id = f"{self.batch_id}-{self.consumed + 1:03d}"
        if kind == "claim":
            self.holders[content] = essay_id
            self.assigned += 1
            outcome = Outcome.ASSIGNED
        else:
            self.failed += 1
            outcome = Outcome.FAILED
        self.records[submission] = Recorded(outcome, essay_id, self.consumed)
        self.consumed += 1
        sealed = self.consumed >= self.expected
        if sealed:
            self.state = BatchState.SEALED
        elif expire_after:
            self.state, self.expired_by_a_claim = BatchState.EXPIRED, True
            return self.records[submission], True, False
        return self.records[submission], sealed, False


class CoordinatorMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.prefix = f"elstest-sm{uuid.uuid4().hex[:10]}"
        self.client = redis.Redis.from_url(REDIS_URL)
        self.coordinator = Coordinator.from_settings(
            Settings(key_prefix=self.prefix, max_expected_essays=6), self.client
        )
        self.model = BatchModel(batch_id="b1", expected=3)
        self.clock = NOW
        self.deadline = NOW + DEADLINE_IN
        self.sealed_told = 0
        self.finalizing_since = 0

    def tick(self) -> int:
        self.clock += 1
        return self.clock

    def check(self, result: SlotResult, kind: str, submission: str, content: str, now: int) -> None:
        if not self.model.registered:
            replayed = any(entry[1] == submission for entry in self.model.parked)
            if not replayed:
                self.model.parked.append((kind, submission, content))
            assert (result.outcome, result.replayed, result.sealed) == (Outcome.PENDING, replayed, False)
            return
        record, sealed, replayed = self.model.take(
            kind, submission, content, past_deadline=now >= self.deadline
        )
        assert (result.outcome, result.essay_id, result.slot) == (
            record.outcome,
            record.essay_id,
            record.slot,
        )
        assert (result.sealed, result.replayed) == (sealed, replayed)
        self.sealed_told += result.sealed

    @rule(expected=st.integers(min_value=1, max_value=4))
    def register_batch(self, expected: int) -> None:
        if self.model.registered:
            return
        self.model.expected = expected
        self.model.registered = True
        sealed = False
        for kind, submission, content in self.model.parked:
            sealed |= self.model.take(kind, submission, content)[1]
        now = self.tick()
        self.deadline = now + DEADLINE_IN
        result = register(self.coordinator, "b1", expected, deadline_ms=self.deadline, now_ms=now)
        assert result.created and result.sealed == sealed
        assert result.pending_replayed == len(self.model.parked)
        self.sealed_told += result.sealed

    @rule(submission=SUBMISSIONS)
    def receive(self, submission: str) -> None:
        now = self.tick()
        result = self.coordinator.receive("b1", [submission], now)
        model = self.model
        if not model.registered:
            assert (result.received, result.refusal) == (False, "unknown")
        elif submission in model.receipts or submission in model.records:
            assert (result.received, result.replayed) == (True, True)
        elif model.state is not BatchState.OPEN:
            assert (result.received, result.refusal, result.state) == (False, "closed", model.state)
        elif now >= self.deadline:
            assert (result.received, result.refusal) == (False, "late")
        else:
            assert (result.received, result.replayed) == (True, False)
            model.receipts.add(submission)
            model.inflight += 1

    @rule(submission=SUBMISSIONS, content=CONTENTS)
    def claim(self, submission: str, content: str) -> None:
        now = self.tick()
        result = self.coordinator.claim("b1", submission, content, now)
        self.check(result, "claim", submission, content, now)

    @rule(submission=SUBMISSIONS)
    def fail(self, submission: str) -> None:
        now = self.tick()
        result = self.coordinator.fail("b1", submission, "BAD", "detail", now)
        self.check(result, "fail", submission, "", now)

    @rule()
    def deadline_passes(self) -> None:
        # The deadline passes with no sweep: the next claim or failure finds it passed.
        self.clock = max(self.clock, self.deadline - 1)

    @rule()
    def grace_passes(self) -> None:
        # Receipts still in flight hold the expiry only this long.
        self.clock = max(self.clock, self.deadline + GRACE - 1)

    @rule()
    def expire(self) -> None:
        self.clock = max(self.clock, self.deadline)
        now = self.tick()
        expired = self.coordinator.expire_due(now, 10)
        held = self.model.inflight > 0 and now < self.deadline + GRACE
        should = self.model.registered and self.model.state is BatchState.OPEN and not held
        assert [batch.batch_id for batch in expired] == (["b1"] if should else [])
        if should:
            self.model.state = BatchState.EXPIRED
            (batch,) = expired
            assert (batch.assigned, batch.failed) == (self.model.assigned, self.model.failed)

    @rule()
    def begin_finalize(self) -> None:
        now = self.tick()
        ticket = self.coordinator.begin_finalize("b1", now, LEASE)
        # A finalizer whose lease ran out (the clock jumps when `expire` runs) is taken over.
        lease_over = self.model.state is BatchState.FINALIZING and now - self.finalizing_since > LEASE
        closed = self.model.state in (BatchState.SEALED, BatchState.EXPIRED)
        should = self.model.registered and (closed or lease_over)
        assert ticket.acquired == should
        if should:
            self.model.state, self.model.token = BatchState.FINALIZING, ticket.token
            self.finalizing_since = now

    @rule(stale=st.booleans())
    def complete_finalize(self, stale: bool) -> None:
        token = "999999" if stale or self.model.token is None else self.model.token
        done = self.coordinator.complete_finalize("b1", token, self.tick())
        should = not stale and self.model.state is BatchState.FINALIZING and self.model.token is not None
        assert done == should
        if should:
            self.model.state = BatchState.DONE

    @invariant()
    def status_matches_the_model(self) -> None:
        status = self.coordinator.status("b1")
        if not self.model.registered:
            assert status is None
            return
        assert status is not None
        model = self.model
        assert (status.state, status.expected) == (model.state, model.expected)
        assert (status.assigned, status.failed, status.excess, status.duplicates) == (
            model.assigned,
            model.failed,
            model.excess,
            model.duplicates,
        )
        assert status.assigned + status.failed <= status.expected
        assert len(status.missing_essay_ids) == model.expected - model.consumed
        assert [record.submission_id for record in status.records] == [
            submission
            for submission, recorded in sorted(
                model.records.items(), key=lambda item: item[1].slot if item[1].slot is not None else -1
            )
            if recorded.slot is not None
        ]
        closed = model.consumed >= model.expected or model.expired_by_a_claim
        assert self.sealed_told == (1 if closed else 0)
        inflight = self.client.hget(self.coordinator.config.keys.batch("b1").hash, "inflight")
        assert int(inflight or 0) == model.inflight
        # The counters the status answer reads and the slot pages agree with the whole status.
        progress = self.coordinator.progress("b1")
        assert progress is not None and (progress.state, progress.settled) == (status.state, model.consumed)
        first = self.coordinator.slot_page("b1", None, 2)
        assert first is not None and first.consumed == model.consumed
        lines = list(first.slots)
        cursor = first.next_cursor
        while cursor is not None:
            page = self.coordinator.slot_page("b1", cursor, 2)
            assert page is not None
            lines.extend(page.slots)
            cursor = page.next_cursor
        assert tuple(line.essay_id for line in lines) == status.slots
        assert tuple(line.record for line in lines if line.record is not None) == status.records

    def teardown(self) -> None:
        keys = list(self.client.scan_iter(match=f"{self.prefix}:*", count=1000))
        if keys:
            self.client.delete(*keys)
        self.client.close()


CoordinatorMachine.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_coordinator_matches_the_batch_model = CoordinatorMachine.TestCase
