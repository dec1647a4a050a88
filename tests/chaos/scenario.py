"""A seeded workload of many batches, the beat stand-in, and the end-state checks of a reliability run.

The workload mixes unique essays (txt, docx, pdf), exact re-uploads of the same text, invalid files and
more essays than slots; a few batches get too few uploads and a short deadline, so the sweep expires them.
With `faults`, a few batches also get uploads whose processing raises or kills its worker child (the
worker must run `tests.support.faulty_worker`); each must end FAILED with its code, or EXCESS when its
failure was settled after its batch had closed (a late failure is excess, like any late arrival).
The checks at the end hold whatever order the uploads were processed in and however often work was
redelivered: nothing lost, no slot taken twice, one report and one completion event per batch, SQL equal
to Redis, nothing left for the next sweep.
"""

from __future__ import annotations

import contextlib
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import redis
from kombu import Connection, Consumer, Exchange, Queue
from kombu.exceptions import OperationalError as BrokerError
from kombu.message import Message
from sqlalchemy import func, select

from coordinator import BatchState, BatchStatus, Outcome
from db.models import Batch, OutboxEvent, Submission
from db.session import unit_of_work
from essays.lifecycle import SubmissionState
from services.relay import lease_for, relay_outbox
from services.runtime import Runtime
from services.sweep import sweep
from tasks.publisher import KombuPublisher
from tests.support.batches import register_batch, submit
from tests.support.documents import make_docx, make_encrypted_pdf, make_pdf, random_binary
from tests.support.faults import CRASH_PREFIX, RAISE_PREFIX
from tests.support.workers import WorkerFleet

SOURCES = Path(__file__).resolve().parents[2] / "cli" / "samples" / "sources"
COMPLETED = "batch.completed"
# What an injected fault must end as: (submission state, error code), by filename prefix.
FAULT_ENDS = {RAISE_PREFIX: ("failed", "PROCESSING_FAILED"), CRASH_PREFIX: ("failed", "PROCESSING_CRASHED")}


def vocabulary() -> list[str]:
    """Lower-case words of the shipped sample essays, each once, in a stable order."""
    words: dict[str, None] = {}
    for path in sorted(SOURCES.glob("*.txt")):
        for word in re.findall(r"[a-z]+", path.read_text().lower()):
            if len(word) > 2:
                words[word] = None
    return list(words)


def essay_text(rng: random.Random, words: list[str]) -> str:
    """A readable-enough essay of 6 to 10 sentences of 8 to 14 words."""
    sentences = []
    for _ in range(rng.randint(6, 10)):
        chosen = rng.choices(words, k=rng.randint(8, 14))
        sentences.append(" ".join(chosen).capitalize() + ".")
    return " ".join(sentences)


@dataclass(frozen=True)
class Upload:
    """One file to store and enqueue; `kind` says what the run expects of it."""

    batch_id: str
    filename: str
    data: bytes
    kind: str  # essay | duplicate | invalid | extra | fault


@dataclass
class Workload:
    """The batches (id -> expected essays) and the uploads, in the order they are submitted."""

    seed: int
    expected: dict[str, int] = field(default_factory=dict)
    expiring: set[str] = field(default_factory=set)
    uploads: list[Upload] = field(default_factory=list)

    def kinds(self) -> Counter[str]:
        """How many uploads of each kind."""
        return Counter(upload.kind for upload in self.uploads)


def encode(rng: random.Random, text: str, stem: str) -> tuple[str, bytes]:
    """`text` as a .txt (most), .docx or .pdf upload."""
    roll = rng.random()
    if roll < 0.08:
        return f"{stem}.docx", make_docx(text)
    if roll < 0.12:
        return f"{stem}.pdf", make_pdf(text)
    return f"{stem}.txt", text.encode()


def plan_workload(
    runtime: Runtime,
    seed: int,
    *,
    batches: int = 20,
    uploads_per_batch: int = 100,
    expiring: int = 2,
    expiring_deadline_seconds: int = 30,
    faults: bool = False,
) -> Workload:
    """Register the batches and build their uploads, shuffled across batches.

    A full batch has 90 % of its uploads' worth of slots: every slot is taken and the rest of the uploads
    come out as duplicates or excess. An expiring batch gets only two thirds of its slots' worth of uploads.
    With `faults`, three full batches each replace an essay by a `fault-raise-` upload, and the first of
    them another by the run's one `fault-crash-` upload.
    """
    rng = random.Random(seed)
    words = vocabulary()
    workload = Workload(seed=seed)
    seen: set[str] = set()
    invalid = [
        ("empty.txt", b""),
        ("noise.txt", random_binary(2048, seed=seed)),
        ("short.txt", b"Too short to be an essay."),
        ("locked.pdf", make_encrypted_pdf("A locked essay about rivers and the sea.")),
    ]

    def fresh_text() -> str:
        while True:
            text = essay_text(rng, words)
            if text not in seen:
                seen.add(text)
                return text

    full = list(range(expiring, batches))
    faulty = rng.sample(full, min(3, len(full))) if faults else []
    for index in range(batches):
        expires = index < expiring
        expected = uploads_per_batch * 9 // 10
        deadline = expiring_deadline_seconds if expires else 3600
        batch_id = register_batch(runtime, expected, deadline_seconds=deadline, owner=f"teacher-{index}")
        workload.expected[batch_id] = expected
        if expires:
            workload.expiring.add(batch_id)
        total = expected * 2 // 3 if expires else uploads_per_batch
        duplicates = max(1, total // 16)
        extras = 0 if expires else total - expected + len(invalid) // 2
        fault_names = []
        if index in faulty:
            fault_names.append(f"{RAISE_PREFIX}{index}.txt")
            if index == faulty[0]:
                fault_names.append(f"{CRASH_PREFIX}{index}.txt")
        essays = total - len(invalid) - duplicates - extras - len(fault_names)
        texts = [fresh_text() for _ in range(essays)]
        batch_uploads = [Upload(batch_id, name, data, "invalid") for name, data in invalid]
        batch_uploads.extend(Upload(batch_id, name, fresh_text().encode(), "fault") for name in fault_names)
        for number, text in enumerate(texts):
            filename, data = encode(rng, text, f"essay-{number}")
            batch_uploads.append(Upload(batch_id, filename, data, "essay"))
        for number, text in enumerate(rng.sample(texts, duplicates)):
            filename, data = encode(rng, text, f"again-{number}")
            batch_uploads.append(Upload(batch_id, filename, data, "duplicate"))
        for number in range(extras):
            filename, data = encode(rng, fresh_text(), f"extra-{number}")
            batch_uploads.append(Upload(batch_id, filename, data, "extra"))
        workload.uploads.extend(batch_uploads)
    rng.shuffle(workload.uploads)
    return workload


def statuses(runtime: Runtime, batch_ids: Iterable[str]) -> dict[str, BatchStatus | None]:
    """The live status of each batch."""
    return {batch_id: runtime.coordinator.status(batch_id) for batch_id in batch_ids}


def all_done(runtime: Runtime, batch_ids: Iterable[str]) -> bool:
    """Whether every batch is DONE in Redis."""
    return all(
        status is not None and status.state is BatchState.DONE
        for status in statuses(runtime, batch_ids).values()
    )


def bind_event_queue(url: str, exchange: str, queue_name: str) -> Queue:
    """Declare a queue bound to every event on the exchange, before anything is published."""
    # On RabbitMQ the queue goes away by itself ten minutes after the run stops using it.
    queue = Queue(
        queue_name, exchange=Exchange(exchange, type="topic", durable=True), routing_key="#", expires=600.0
    )
    with Connection(url) as connection:
        queue(connection.default_channel).declare()
    return queue


def drain_outbox(runtime: Runtime) -> int:
    """Publish every outbox event from the test process, as the relay would once the leases of relays
    killed mid-publish have ended; returns how many it published."""
    total = 0
    leases_ended = datetime.now(UTC) + lease_for(runtime.settings)
    with closing(
        KombuPublisher(runtime.settings.celery_broker_url, runtime.settings.events_exchange)
    ) as publisher:
        while True:
            result = relay_outbox(runtime.engine, publisher, limit=500, now=leases_ended)
            total += result.published
            if result.published == 0:
                return total


def consume_events(url: str, queue: Queue, idle_seconds: float = 2.0) -> list[tuple[str, str, str]]:
    """Every message on `queue` as (event_type, event_id, aggregate batch id), until it stays empty."""
    received: list[tuple[str, str, str]] = []

    def on_message(body: object, message: Message) -> None:
        headers = message.headers
        event_type = str(headers.get("event_type", ""))
        event_id = str(headers.get("event_id", ""))
        batch_id = ""
        if isinstance(body, dict):
            data = body.get("data")
            if isinstance(data, dict):
                batch_id = str(data.get("batch_id", ""))
        received.append((event_type, event_id, batch_id))
        message.ack()

    with Connection(url) as connection, Consumer(connection, queues=[queue], callbacks=[on_message]):
        last = time.monotonic()
        while time.monotonic() - last < idle_seconds:
            before = len(received)
            with contextlib.suppress(TimeoutError):
                connection.drain_events(timeout=0.5)
            if len(received) > before:
                last = time.monotonic()
    return received


@dataclass
class EndState:
    """What the run came to, summed over its batches."""

    batches: int = 0
    uploads: int = 0
    assigned: int = 0
    failed: int = 0
    excess: int = 0
    duplicates: int = 0
    missing: int = 0
    expired: int = 0
    completion_events: int = 0
    completion_messages: int = 0
    faults_failed: int = 0
    faults_late: int = 0

    def as_dict(self) -> dict[str, int]:
        """The figures, for the run's JSON summary."""
        return dict(self.__dict__)


def check_end_state(
    runtime: Runtime,
    workload: Workload,
    submissions: dict[str, str],
    events: list[tuple[str, str, str]],
) -> EndState:
    """Assert every promise of a finished run; returns the totals. `submissions` maps id -> batch id."""
    end = EndState(batches=len(workload.expected), uploads=len(submissions))
    problems: list[str] = []
    per_batch_uploads = Counter(submissions.values())
    batch_ids = list(workload.expected)
    with unit_of_work(runtime.engine, read_only=True) as session:
        columns = (
            Submission.submission_id,
            Submission.batch_id,
            Submission.state,
            Submission.essay_id,
            Submission.filename,
            Submission.error_code,
            Submission.updated_at,
            Submission.content_hash,
        )
        rows = session.execute(select(*columns).where(Submission.batch_id.in_(batch_ids))).all()
        closed_at = {
            row.batch_id: row.closed_at
            for row in session.execute(
                select(Batch.batch_id, Batch.closed_at).where(Batch.batch_id.in_(batch_ids))
            )
        }
        batches = {
            row.batch_id: (row.state, row.report)
            for row in session.execute(
                select(Batch.batch_id, Batch.state, Batch.report).where(Batch.batch_id.in_(batch_ids))
            )
        }
        completed = session.execute(
            select(OutboxEvent.aggregate_id, func.count())
            .where(OutboxEvent.event_type == COMPLETED, OutboxEvent.aggregate_id.in_(batch_ids))
            .group_by(OutboxEvent.aggregate_id)
        )
        outbox: Counter[str] = Counter({aggregate_id: count for aggregate_id, count in completed})
        # This run's events only: a test before it in the same database may leave its own behind.
        unpublished = session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.published_at.is_(None), OutboxEvent.aggregate_id.in_(batch_ids))
        )
    stored = {row.submission_id: row for row in rows}
    lost = sorted(set(submissions) - set(stored))
    if lost:
        problems.append(f"{len(lost)} submissions not stored, e.g. {lost[:3]}")
    waiting = unsettled(runtime, workload)
    if waiting:
        problems.append(f"{len(waiting)} submissions never settled, e.g. {waiting[:3]}")
    for row in rows:
        for prefix, (state, code) in FAULT_ENDS.items():
            if row.filename.startswith(prefix):
                closed = closed_at.get(row.batch_id)
                if (row.state, row.error_code) == (state, code):
                    end.faults_failed += 1
                elif row.state == SubmissionState.EXCESS and closed is not None and row.updated_at >= closed:
                    # Its failure was settled after the batch had closed: excess, like any late arrival.
                    end.faults_late += 1
                else:
                    problems.append(f"{row.filename}: {row.state} {row.error_code}, expected {state} {code}")
    by_batch: dict[str, Counter[str]] = {batch_id: Counter() for batch_id in workload.expected}
    for row in rows:
        slot_kind = row.state if row.state != SubmissionState.FAILED or row.essay_id else "failed_late"
        by_batch[row.batch_id][slot_kind] += 1

    completion_messages = Counter(batch_id for kind, _, batch_id in set(events) if kind == COMPLETED)
    for batch_id, expected in workload.expected.items():
        status = runtime.coordinator.status(batch_id)
        if status is None or status.state is not BatchState.DONE:
            problems.append(f"{batch_id}: not DONE in Redis ({status.state if status else 'gone'})")
            continue
        counts = by_batch[batch_id]
        essay_ids = [record.essay_id for record in status.records]
        # The content behind each slot Redis assigned, as SQL recorded its submission.
        hashes = [
            stored[record.submission_id].content_hash
            for record in status.records
            if record.outcome is Outcome.ASSIGNED and record.submission_id in stored
        ]
        if len(set(essay_ids)) != len(essay_ids) or len(set(hashes)) != len(hashes):
            problems.append(f"{batch_id}: a slot or a content taken twice")
        if len({record.submission_id for record in status.records}) != len(status.records):
            problems.append(f"{batch_id}: one submission took two slots")
        settled = status.assigned + status.failed + status.excess + status.duplicates
        if settled != per_batch_uploads[batch_id]:
            problems.append(f"{batch_id}: {per_batch_uploads[batch_id]} uploads, {settled} settled in Redis")
        if status.assigned + status.failed + len(status.missing_essay_ids) != expected:
            problems.append(f"{batch_id}: slots do not add up to {expected}")
        sql = (
            counts[SubmissionState.READY],
            counts[SubmissionState.FAILED],
            counts[SubmissionState.EXCESS] + counts["failed_late"],
            counts[SubmissionState.DUPLICATE],
        )
        live = (status.assigned, status.failed, status.excess, status.duplicates)
        if sql != live:
            problems.append(f"{batch_id}: SQL counts {sql} != Redis counts {live}")
        sql_state, report = batches.get(batch_id, ("absent", None))
        report_counts = report.get("counts") if report is not None else None
        if sql_state != "done" or not isinstance(report_counts, dict):
            problems.append(f"{batch_id}: no report in SQL")
        else:
            slots = {
                "expected": expected,
                "analysed": status.assigned,
                "failed": status.failed,
                "analysis_failed": 0,
                "missing": len(status.missing_essay_ids),
            }
            # Uploads settled after the report was written count live (and have their own events), not
            # in the report: its excess and duplicates are a snapshot at finalizing.
            late = [key for key in ("excess", "duplicates") if report_counts[key] > getattr(status, key)]
            if {key: report_counts[key] for key in slots} != slots or late:
                problems.append(f"{batch_id}: report counts {report_counts} do not match {status}")
        if outbox[batch_id] != 1:
            problems.append(f"{batch_id}: {outbox[batch_id]} completion events in the outbox")
        if completion_messages[batch_id] != 1:
            problems.append(f"{batch_id}: {completion_messages[batch_id]} completion events consumed")
        expired = status.closed_as is BatchState.EXPIRED
        if expired != (batch_id in workload.expiring):
            problems.append(f"{batch_id}: closed as {status.closed_as}, planned to expire: {not expired}")
        end.assigned += status.assigned
        end.failed += status.failed
        end.excess += status.excess
        end.duplicates += status.duplicates
        end.missing += len(status.missing_essay_ids)
        end.expired += int(expired)
    end.completion_events = sum(outbox.values())
    end.completion_messages = sum(completion_messages.values())
    if unpublished:
        problems.append(f"{unpublished} outbox events left unpublished")
    after = sweep(runtime)
    if after.to_complete:
        problems.append(f"the sweep after the run still found work: {after.to_complete}")
    assert not problems, "\n".join(problems)
    return end


def submit_upload(runtime: Runtime, upload: Upload) -> str:
    """Store one upload, then enqueue it, retrying the enqueue while the broker is unreachable."""
    submission_id = submit(runtime, upload.batch_id, upload.filename, upload.data, enqueue=False)
    while True:
        try:
            runtime.dispatcher.process(upload.batch_id, submission_id, f"corr-{upload.batch_id}")
            return submission_id
        except (BrokerError, redis.RedisError):
            time.sleep(0.5)


Tick = Callable[[float], None]


@dataclass(frozen=True)
class Driven:
    """What `drive` did: each submission's batch, and how many submissions the sweeps resubmitted."""

    submissions: dict[str, str]
    resubmitted: int


def drive(
    runtime: Runtime,
    workload: Workload,
    on_tick: Tick,
    *,
    timeout: float,
    sweep_every: float = 2.0,
    chunk: int = 10,
) -> Driven:
    """Submit every upload and sweep like beat until all batches are DONE and every upload is settled.

    `on_tick(elapsed_seconds)` runs between chunks of uploads and while waiting: faults are injected there.
    A sweep that cannot reach Redis is simply tried again at the next tick, as beat would.
    """
    submissions: dict[str, str] = {}
    resubmitted = 0
    start = time.monotonic()
    next_sweep = next_report = start
    uploads = workload.uploads
    while True:
        now = time.monotonic()
        if now - start > timeout:
            raise AssertionError(
                f"seed {workload.seed}: not finished after {timeout:.0f} s "
                f"({len(submissions)}/{len(uploads)} submitted): {describe(runtime, workload)}"
            )
        on_tick(now - start)
        if now >= next_report:
            next_report = now + 10
            progress = f"{len(submissions)}/{len(uploads)} submitted"
            print(f"chaos {now - start:.0f} s: {progress}; {describe(runtime, workload)}")
        if now >= next_sweep:
            next_sweep = now + sweep_every
            try:
                resubmitted += len(sweep(runtime).resubmitted)
                if (
                    len(submissions) == len(uploads)
                    and all_done(runtime, workload.expected)
                    and not unsettled(runtime, workload)
                ):
                    return Driven(submissions, resubmitted)
            except (BrokerError, redis.RedisError):
                pass
        if len(submissions) < len(uploads):
            for upload in uploads[len(submissions) : len(submissions) + chunk]:
                submissions[submit_upload(runtime, upload)] = upload.batch_id
        else:
            time.sleep(0.2)


def unsettled(runtime: Runtime, workload: Workload) -> list[str]:
    """Submissions of the workload's batches not yet assigned, failed, excess or duplicate."""
    waiting = (SubmissionState.RECEIVED.value, SubmissionState.PROCESSING.value)
    with unit_of_work(runtime.engine, read_only=True) as session:
        found = session.scalars(
            select(Submission.submission_id).where(
                Submission.batch_id.in_(list(workload.expected)), Submission.state.in_(waiting)
            )
        )
        return list(found)


def describe(runtime: Runtime, workload: Workload) -> str:
    """Batches per state, slots taken and submissions unsettled, for progress lines and failures."""
    try:
        found = statuses(runtime, workload.expected)
    except redis.RedisError as error:
        return f"Redis unreachable: {error}"
    states = Counter(status.state.value if status else "gone" for status in found.values())
    taken = sum(status.assigned + status.failed for status in found.values() if status)
    waiting = unsettled(runtime, workload)
    return (
        f"batches {dict(states)}, {taken} slots taken, {len(waiting)} submissions unsettled"
        f"{queue_depths(runtime)}"
    )


def queue_depths(runtime: Runtime) -> str:
    """Messages waiting on the essay and control queues, where the broker is Redis (a list per queue)."""
    settings = runtime.settings
    if not settings.celery_broker_url.startswith("redis"):
        return ""
    client = redis.Redis.from_url(settings.celery_broker_url)
    try:
        queues = (settings.queue, settings.celery_control_queue)
        depths = ", ".join(f"{name} {client.llen(name)}" for name in queues)
        return f"; queued: {depths}, unacked {client.hlen('unacked')}"
    finally:
        client.close()


@dataclass
class ChaosMonkey:
    """Seeded SIGKILLs of pool children and of whole workers during the first `until` seconds.

    A killed worker is started again after a short pause; after `until` every worker is kept running.
    """

    fleet: WorkerFleet
    rng: random.Random
    until: float
    whole_worker_until: float
    pause: tuple[float, float] = (1.0, 3.0)
    children_killed: int = 0
    workers_killed: int = 0
    _next_action: float = 0.0
    _restart_at: dict[str, float] = field(default_factory=dict)

    def __call__(self, elapsed: float) -> None:
        for worker in self.fleet.workers:
            restart_at = self._restart_at.get(worker.name)
            if not worker.alive and (restart_at is None or elapsed >= restart_at):
                self._restart_at.pop(worker.name, None)
                worker.start()
        if elapsed >= self.until or elapsed < self._next_action:
            return
        self._next_action = elapsed + self.rng.uniform(*self.pause)
        alive = [worker for worker in self.fleet.workers if worker.alive]
        if not alive:
            return
        worker = self.rng.choice(alive)
        children = worker.pool_children()
        # A whole worker only while another one runs, so the run keeps moving between kills; at least one
        # by half time, so every run has both kinds of kill.
        overdue = self.workers_killed == 0 and elapsed >= self.whole_worker_until / 2
        if elapsed < self.whole_worker_until and len(alive) > 1 and (overdue or self.rng.random() < 0.25):
            worker.kill()
            self.workers_killed += 1
            self._restart_at[worker.name] = elapsed + self.rng.uniform(*self.pause)
        elif children:
            worker.kill_child(self.rng.choice(children))
            self.children_killed += 1
