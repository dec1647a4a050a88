"""With `min_replicas`, a step is acknowledged only once a replica holds it (WAIT on the step's connection).

A private primary and replica of the module's own (tests/support/replicas.py): the replica is read
directly to see what it holds, stopped (SIGSTOP: WAIT times out) or detached (`REPLICAOF NO ONE`: the
primary has no replica) to see a step refused, and brought back to see the retry go through.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest
import redis

from coordinator import BatchState, Coordinator, Outcome
from coordinator.lua import ScriptName, script_source
from els.errors import NotReplicatedError
from els.settings import Settings
from tests.integration.coordinator.support import HOUR_MS, NOW, redis_server_available, register
from tests.support.replicas import ReplicatedRedis, detached, replicated_redis, stalled

pytestmark = pytest.mark.skipif(not redis_server_available(), reason="redis-server not on PATH")

# A stopped replica fails a step after this long; a live one answers well within it.
SHORT_MS = 100
PATIENT_MS = 3000


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplicatedRedis]:
    with replicated_redis(tmp_path_factory.mktemp("replicated")) as running:
        yield running


@pytest.fixture
def primary(pair: ReplicatedRedis) -> Iterator[redis.Redis]:
    client = redis.Redis(port=pair.primary)
    yield client
    client.close()


@pytest.fixture
def replica(pair: ReplicatedRedis) -> Iterator[redis.Redis]:
    client = pair.replica_client()
    yield client
    client.close()


def coordinator_on(client: redis.Redis, prefix: str, min_replicas: int, timeout_ms: int) -> Coordinator:
    settings = Settings(
        key_prefix=prefix, shards=4, redis_min_replicas=min_replicas, redis_replica_timeout_ms=timeout_ms
    )
    return Coordinator.from_settings(settings, client)


@pytest.fixture
def prefix() -> str:
    return f"repl-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def durable(primary: redis.Redis, prefix: str) -> Coordinator:
    """Waits for the one replica, patiently."""
    return coordinator_on(primary, prefix, 1, PATIENT_MS)


@pytest.fixture
def impatient(primary: redis.Redis, prefix: str) -> Coordinator:
    """Waits for the one replica, briefly: the coordinator a stopped replica fails."""
    return coordinator_on(primary, prefix, 1, SHORT_MS)


def wait_calls(client: redis.Redis) -> int:
    """How many WAIT commands the server has run."""
    stats: dict[str, object] = client.info("commandstats")
    entry = stats.get("cmdstat_wait")
    return int(entry["calls"]) if isinstance(entry, dict) else 0


def test_a_claim_is_answered_only_once_the_replica_holds_it(
    durable: Coordinator, replica: redis.Redis
) -> None:
    register(durable, "b1", 2)
    result = durable.claim("b1", "s1", "h1", NOW)
    assert result.outcome is Outcome.ASSIGNED and result.essay_id == "b1-001"
    # Read on the replica straight after the answer, without polling: WAIT returned once it had it.
    held = replica.hmget(durable.config.keys.batch("b1").hash, ["state", "assigned", "s:s1"])
    assert held == [b"open", b"1", b"0"]


def test_a_step_the_stopped_replica_never_confirms_fails_and_its_replay_goes_through_once_it_is_back(
    pair: ReplicatedRedis, impatient: Coordinator, durable: Coordinator, primary: redis.Redis
) -> None:
    register(durable, "b1", 1)
    key = durable.config.keys.batch("b1").hash
    with stalled(pair):
        with pytest.raises(NotReplicatedError) as refused:
            impatient.claim("b1", "s1", "h1", NOW)
        assert refused.value.code == "NOT_REPLICATED"
        assert refused.value.details == {"dependency": "redis", "replicas": 0, "required": 1}
        # The primary took the claim (it sealed the batch), but nobody was told so.
        assert primary.hmget(key, ["state", "assigned"]) == [b"sealed", b"1"]
        # Its replay writes nothing of its own, yet is refused too: the fence makes WAIT cover what it read.
        with pytest.raises(NotReplicatedError):
            impatient.claim("b1", "s1", "h1", NOW)
    again = durable.claim("b1", "s1", "h1", NOW)
    assert (again.outcome, again.essay_id, again.replayed, again.state) == (
        Outcome.ASSIGNED,
        "b1-001",
        True,
        BatchState.SEALED,
    )
    status = durable.status("b1")
    assert status is not None and (status.assigned, status.excess, status.duplicates) == (1, 0, 0)


def test_a_registration_no_replica_confirms_is_replayed_by_its_retry(
    pair: ReplicatedRedis, impatient: Coordinator, durable: Coordinator, replica: redis.Redis
) -> None:
    with detached(pair), pytest.raises(NotReplicatedError):
        register(impatient, "b1", 2)
    retried = register(durable, "b1", 2)
    assert not retried.created and retried.state is BatchState.OPEN
    assert replica.hget(durable.config.keys.batch("b1").hash, "expected") == b"2"


def test_every_step_waits_and_no_read_does(durable: Coordinator, primary: redis.Redis) -> None:
    for name in ScriptName:  # loaded already, so no step meets NOSCRIPT (which is sent again, WAIT too)
        primary.script_load(script_source(name))
    before = wait_calls(primary)
    register(durable, "b1", 2, deadline_ms=NOW + HOUR_MS)
    register(durable, "b2", 1, deadline_ms=NOW + 1)
    assert durable.receive("b1", ["s1"], NOW).received
    assert durable.start_attempt("b1", "s1") == 1
    durable.claim("b1", "s1", "h1", NOW)
    durable.fail("b1", "s2", "BAD", "unreadable", NOW)
    ticket = durable.begin_finalize("b1", NOW, 60_000)
    assert ticket.token is not None and durable.complete_finalize("b1", ticket.token, NOW)
    assert [batch.batch_id for batch in durable.expire_due(NOW + 2, 10)] == ["b2"]
    register(durable, "b3", 1)
    assert durable.close("b3", "alice", NOW).state is BatchState.CLOSED
    register(durable, "b4", 1)
    assert durable.cancel("b4", "alice", NOW).state is BatchState.CANCELLED
    durable.rekick_stuck(NOW + HOUR_MS, 1, 10)
    steps = wait_calls(primary) - before
    # One WAIT per step, and one per shard the walks called (16 shards each for expiry and re-kick).
    assert steps == 12 + 2 * durable.config.keys.shards

    before = wait_calls(primary)
    register(durable, "b5", 2)
    assert durable.gate("b5", NOW) is not None  # OPEN: nothing to confirm
    durable.status("b1")
    durable.slot_page("b1", None, 10)
    durable.progress("b1")
    durable.list_active_batches("alice", None, 10)
    durable.live_figures(NOW, 1000)
    assert wait_calls(primary) - before == 1  # b5's registration


def test_without_min_replicas_no_wait_is_sent(primary: redis.Redis, prefix: str) -> None:
    plain = coordinator_on(primary, prefix, 0, PATIENT_MS)
    before = wait_calls(primary)
    register(plain, "b1", 1)
    assert plain.claim("b1", "s1", "h1", NOW).sealed
    ticket = plain.begin_finalize("b1", NOW, 60_000)
    assert ticket.token is not None and plain.complete_finalize("b1", ticket.token, NOW)
    plain.confirm_replicated("b1")
    assert wait_calls(primary) == before


def test_reads_answer_while_the_replica_is_stopped_and_a_refusing_gate_does_not(
    pair: ReplicatedRedis, impatient: Coordinator, durable: Coordinator
) -> None:
    register(durable, "open", 2)
    register(durable, "sealed", 1)
    durable.claim("sealed", "s1", "h1", NOW)
    with stalled(pair):
        gate = impatient.gate("open", NOW)
        assert gate is not None and gate.state is BatchState.OPEN
        status = impatient.status("sealed")
        assert status is not None and status.state is BatchState.SEALED
        assert impatient.progress("open") is not None
        # A refusal is an answer the client acts on: given only once the replica holds the close.
        with pytest.raises(NotReplicatedError):
            impatient.gate("sealed", NOW)
        with pytest.raises(NotReplicatedError):
            impatient.confirm_replicated("open")
    gate = durable.gate("sealed", NOW)
    assert gate is not None and gate.state is BatchState.SEALED
    durable.confirm_replicated("open")


def test_scripts_are_loaded_again_when_the_primary_lost_them(
    durable: Coordinator, primary: redis.Redis
) -> None:
    register(durable, "b1", 2)
    primary.script_flush()
    assert durable.claim("b1", "s1", "h1", NOW).outcome is Outcome.ASSIGNED
    primary.script_flush()
    assert durable.claim("b1", "s1", "h1", NOW).replayed


def test_the_expiry_walk_leaves_an_unconfirmed_shard_to_the_rekick(
    pair: ReplicatedRedis, impatient: Coordinator, durable: Coordinator, caplog: pytest.LogCaptureFixture
) -> None:
    register(durable, "due", 1, deadline_ms=NOW + 1)
    with stalled(pair), caplog.at_level(logging.WARNING, logger="coordinator.walks"):
        # The primary expires the batch, but the call is not confirmed: it is not handed out.
        assert impatient.expire_due(NOW + 2, 10) == []
        # One primary holds every shard: the walk waits on its replica once, not once a shard.
        assert sum("expiry skips shard" in record.message for record in caplog.records) == 1
    status = durable.status("due")
    assert status is not None and status.state is BatchState.EXPIRED
    assert durable.expire_due(NOW + 2, 10) == []  # no longer due: it expired, unacknowledged
    # The re-kick hands it out once the replica holds it, so its completion still comes.
    assert [batch.batch_id for batch in durable.rekick_stuck(NOW + 10_000, 5_000, 10)] == ["due"]
