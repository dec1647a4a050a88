"""The client's side of a cluster run: register batches and upload essays through the services layer,
recording every request and answer, and sweep like beat while the faults play.

Every request carries an idempotency key (registrations their batch id), so the client retries one whose
answer it never got, as a real client would; the checker then holds ELS to one submission per key.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy.exc import OperationalError as SqlError

from coordinator import BatchState
from els.errors import BatchNotOpenError, NotReadyError
from els.ids import scoped_id
from services.intake import Upload, register_batch, submit_essays
from services.registration import BatchRequest
from services.runtime import Runtime
from services.sweep import sweep
from tests.chaos.scenario import essay_text, vocabulary
from tests.cluster.history import History

# What a client sees while a store is partitioned or failing over: it waits and sends the same request.
TRANSIENT = (NotReadyError, redis.RedisError, BrokerError, SqlError, OSError)


@dataclass(frozen=True)
class PlannedUpload:
    """One upload: its batch (owner and public id), its key, its file."""

    owner: str
    batch: str
    key: str
    filename: str
    data: bytes


@dataclass
class Plan:
    """The batches (scoped id -> expected slots, whether it should expire) and the uploads in order."""

    batches: dict[str, dict[str, object]]
    requests: list[BatchRequest]
    uploads: list[PlannedUpload]


def plan(seed: int, *, batches: int, slots: int, expiring_deadline: int) -> Plan:
    """`batches` batches of `slots` slots; the last gets too few uploads and a short deadline, so it
    expires; the others get every slot's essay, one exact re-upload and one essay too many."""
    rng = random.Random(seed)
    words = vocabulary()
    requests: list[BatchRequest] = []
    uploads: list[PlannedUpload] = []
    expected: dict[str, dict[str, object]] = {}
    for index in range(batches):
        owner, public = f"teacher-{index}", f"b{index}-s{seed}"
        expires = index == batches - 1
        deadline = expiring_deadline if expires else 900
        requests.append(
            BatchRequest(
                owner=owner,
                correlation_id=f"corr-{public}",
                batch_id=public,
                expected_count=slots,
                deadline_seconds=deadline,
            )
        )
        expected[scoped_id(owner, public)] = {"expected": slots, "expires": expires}
        texts = [essay_text(rng, words) for _ in range(slots // 2 if expires else slots + 1)]
        files = [(f"essay-{n}.txt", text) for n, text in enumerate(texts)]
        if not expires:
            files.append(("again-0.txt", texts[0]))
        for name, text in files:
            uploads.append(PlannedUpload(owner, public, f"{public}/{name}", name, text.encode()))
    rng.shuffle(uploads)
    return Plan(expected, requests, uploads)


def register_all(runtime: Runtime, history: History, requests: list[BatchRequest]) -> None:
    """Register every batch, retrying each until it is answered."""
    for request in requests:
        assert request.batch_id is not None
        batch = scoped_id(request.owner, request.batch_id)
        while True:
            history.record("invoke", op="register", batch=batch, expected=request.expected_count)
            try:
                answer = register_batch(runtime, request)
            except TRANSIENT as error:
                history.record("fail", op="register", batch=batch, error=repr(error)[:200])
                time.sleep(0.5)
                continue
            history.record("ok", op="register", batch=batch, deadline=answer.deadline_at.timestamp())
            break


def upload(runtime: Runtime, history: History, item: PlannedUpload, tick: Callable[[], None]) -> None:
    """Send one upload until it is answered (accepted or refused), ticking the faults between tries."""
    batch = scoped_id(item.owner, item.batch)
    sha256 = hashlib.sha256(item.data).hexdigest()
    while True:
        history.record("invoke", op="upload", batch=batch, key=item.key, sha256=sha256)
        try:
            (accepted,) = submit_essays(
                runtime,
                item.owner,
                item.batch,
                [Upload(item.filename, "text/plain", item.data)],
                correlation_id=f"corr-{item.batch}",
                idempotency_key=item.key,
            )
        except BatchNotOpenError as error:
            history.record("refused", op="upload", batch=batch, key=item.key, error=str(error)[:200])
            return
        except TRANSIENT as error:
            history.record("fail", op="upload", batch=batch, key=item.key, error=repr(error)[:200])
            tick()
            time.sleep(0.5)
            continue
        history.record(
            "ok",
            op="upload",
            batch=batch,
            key=item.key,
            submission=accepted.submission_id,
            created=accepted.created,
        )
        return


def finished(runtime: Runtime, batch_ids: list[str]) -> bool:
    """Whether every batch is DONE in Redis."""
    for batch_id in batch_ids:
        progress = runtime.coordinator.progress(batch_id)
        if progress is None or progress.state is not BatchState.DONE:
            return False
    return True


@dataclass
class Beat:
    """The beat stand-in: a sweep every `every` seconds; an unreachable store just waits for the next."""

    runtime: Runtime
    history: History
    every: float = 2.0
    _next: float = 0.0

    def __call__(self) -> None:
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self.every
        try:
            result = sweep(self.runtime)
        except TRANSIENT as error:
            self.history.record("fail", op="sweep", error=repr(error)[:200])
            return
        if result.expired or result.rekicked or result.resubmitted:
            self.history.record(
                "ok",
                op="sweep",
                expired=list(result.expired),
                rekicked=list(result.rekicked),
                resubmitted=[stale.submission_id for stale in result.resubmitted],
            )
