"""Claim-path throughput and latency against a trivial EVALSHA floor, from the same client in one run.

Run: `uv run python bench/coordinator.py [--claims N] [--redis-url URL]`. The last line printed is one
JSON object with the figures and `ratio` = claims/s divided by floor calls/s (target >= 0.7, with
claim p99 < 1 ms on loopback), and `memory_per_claimed_slot_bytes`: Redis's `MEMORY USAGE` of every key
of one batch of 1,000 slots, each received and claimed as intake and the worker do it (owner-scoped ids,
ELS's submission ids, sha256 content hashes), divided by its 1,000 slots (target <= 300). Keys live under
a prefix of the run's own and are deleted afterwards.

What `ELS_REDIS_MIN_REPLICAS=1` costs: the same claims against a private primary with one replica the bench
starts itself on free loopback ports (the Redis at --redis-url is never made anyone's primary), in
alternating rounds with and without WAIT on that one primary: `wait_claim_per_s`, its p50 and p99, and
`wait_claim_ratio` = claims/s with WAIT divided by claims/s without (`plain_claim_per_s`). `--wait-claims
0` skips it (so does a machine without redis-server).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

if not __package__:
    # Run as a script, bench/ comes first on sys.path and this file would shadow the coordinator package.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import redis

from cli.embedded_redis import NO_PERSISTENCE, RedisServer
from coordinator import Coordinator, Outcome, registration_fingerprint
from els.ids import scoped_id
from els.settings import Settings

BATCH_SIZE = 1000
ROUND = 500
HOUR_MS = 3_600_000


def _percentile(samples_ns: list[int], fraction: float) -> float:
    """The `fraction` quantile of the samples, in milliseconds."""
    ordered = sorted(samples_ns)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] / 1e6


def _timed(first: int, count: int, call: Callable[[int], None], latencies: list[int]) -> int:
    """Run `call(i)` for i in first..first+count-1, appending each latency; the total time in ns."""
    started = time.perf_counter_ns()
    for i in range(first, first + count):
        before = time.perf_counter_ns()
        call(i)
        latencies.append(time.perf_counter_ns() - before)
    return time.perf_counter_ns() - started


def _interleaved(
    total: int, floor: Callable[[int], None], claim: Callable[[int], None]
) -> tuple[float, list[int], float, list[int]]:
    """Floor and claim calls in alternating rounds, so drift on a shared machine hits both alike."""
    floor_ns = claim_ns = 0
    floor_latencies: list[int] = []
    claim_latencies: list[int] = []
    for first in range(0, total, ROUND):
        count = min(ROUND, total - first)
        floor_ns += _timed(first, count, floor, floor_latencies)
        claim_ns += _timed(first, count, claim, claim_latencies)
    return total / (floor_ns / 1e9), floor_latencies, total / (claim_ns / 1e9), claim_latencies


def _summary(name: str, rate: float, latencies: list[int]) -> dict[str, float]:
    figures = {
        f"{name}_per_s": round(rate),
        f"{name}_p50_ms": round(_percentile(latencies, 0.50), 4),
        f"{name}_p99_ms": round(_percentile(latencies, 0.99), 4),
        f"{name}_mean_ms": round(statistics.fmean(latencies) / 1e6, 4),
    }
    print(
        f"{name:>6}: {figures[f'{name}_per_s']:>8} /s   p50 {figures[f'{name}_p50_ms']:.4f} ms   "
        f"p99 {figures[f'{name}_p99_ms']:.4f} ms"
    )
    return figures


def memory_per_claimed_slot(client: redis.Redis, coordinator: Coordinator, now: int) -> float:
    """Bytes Redis holds for one batch of BATCH_SIZE slots, all received and claimed, per slot."""
    owner = "teacher-0042"
    batch_id = scoped_id(owner, "class-7b-2026-autumn")
    coordinator.register(
        batch_id,
        owner,
        expected_count=BATCH_SIZE,
        deadline_ms=now + HOUR_MS,
        fingerprint=registration_fingerprint(owner, BATCH_SIZE, 3600, "{}"),
        correlation_id="bench-memory",
    )
    for n in range(BATCH_SIZE):
        submission_id = f"s-{hashlib.md5(str(n).encode()).hexdigest()}"  # as intake's: s-<32 hex>
        coordinator.receive(batch_id, [submission_id])
        result = coordinator.claim(batch_id, submission_id, hashlib.sha256(str(n).encode()).hexdigest())
        if result.outcome is not Outcome.ASSIGNED:
            raise RuntimeError(f"memory claim {n} was {result.outcome}")
    keys = coordinator.config.keys.batch(batch_id)
    used = sum(int(client.memory_usage(key, samples=0) or 0) for key in (keys.hash, keys.pending))
    return used / BATCH_SIZE


def _register_bench_batches(coordinator: Coordinator, claims: int, now: int) -> None:
    for number in range(claims // BATCH_SIZE + 1):
        coordinator.register(
            f"bench-{number}",
            "bench",
            expected_count=BATCH_SIZE,
            deadline_ms=now + HOUR_MS,
            fingerprint=registration_fingerprint("bench", BATCH_SIZE, 3600, "{}"),
            correlation_id="bench",
            now_ms=now,
        )


def _claimer(coordinator: Coordinator, now: int) -> Callable[[int], None]:
    def claim(i: int) -> None:
        result = coordinator.claim(f"bench-{i // BATCH_SIZE}", f"sub-{i}", f"hash-{i}", now)
        if result.outcome is not Outcome.ASSIGNED:
            raise RuntimeError(f"claim {i} was {result.outcome}")

    return claim


def _replica_online(primary: redis.Redis) -> bool:
    replica = primary.info("replication").get("slave0")
    return isinstance(replica, dict) and replica.get("state") == "online"


@contextmanager
def replicated_primary() -> Iterator[redis.Redis]:
    """A private primary with one replica of it online, on free loopback ports; both stopped after."""
    with tempfile.TemporaryDirectory(prefix="els-bench-") as workdir:
        (Path(workdir) / "primary").mkdir()
        (Path(workdir) / "replica").mkdir()
        with RedisServer(Path(workdir) / "primary") as primary:
            options = (*NO_PERSISTENCE, "--replicaof", "127.0.0.1", str(primary.port))
            with RedisServer(Path(workdir) / "replica", options), redis.Redis(port=primary.port) as client:
                deadline = time.monotonic() + 30
                while not _replica_online(client):
                    if time.monotonic() > deadline:
                        raise RuntimeError("the bench's replica never came online")
                    time.sleep(0.05)
                yield client


def wait_cost(claims: int, now: int) -> dict[str, float]:
    """Claims with min_replicas=1 against claims without WAIT, alternating, on one replicated primary."""
    with replicated_primary() as client:
        plain = Coordinator.from_settings(Settings(key_prefix="plain"), client)
        durable = Coordinator.from_settings(Settings(key_prefix="durable", redis_min_replicas=1), client)
        for coordinator in (plain, durable):
            _register_bench_batches(coordinator, claims, now)
            _claimer(coordinator, now)(claims)  # warm-up: the script cache, the connection
        plain_rate, _, wait_rate, wait_latencies = _interleaved(
            claims, _claimer(plain, now), _claimer(durable, now)
        )
    figures = {
        "plain_claim_per_s": round(plain_rate),
        **_summary("wait_claim", wait_rate, wait_latencies),
    }
    figures["wait_claim_ratio"] = round(wait_rate / plain_rate, 3)
    print(f"  wait: {figures['wait_claim_ratio']} (claims/s with WAIT over claims/s without, one replica)")
    return figures


def main() -> None:
    """Measure the floor and the claim path in alternating rounds; print figures and one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--claims", type=int, default=20_000)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--wait-claims", type=int, default=None, help="claims with and without WAIT")
    options = parser.parse_args()

    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(options.redis_url)
    coordinator = Coordinator.from_settings(Settings(key_prefix=prefix), client)
    floor_script = client.register_script("return 1")
    now = time.time_ns() // 1_000_000
    _register_bench_batches(coordinator, options.claims, now)

    def floor(_: int) -> None:
        floor_script(keys=[f"{prefix}:floor"], args=[])

    try:
        _timed(0, 2000, floor, [])  # warm-up: connection, script cache, CPU caches
        floor_rate, floor_latencies, claim_rate, claim_latencies = _interleaved(
            options.claims, floor, _claimer(coordinator, now)
        )
        memory = memory_per_claimed_slot(client, coordinator, now)
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()

    figures = {
        **_summary("floor", floor_rate, floor_latencies),
        **_summary("claim", claim_rate, claim_latencies),
    }
    figures["ratio"] = round(claim_rate / floor_rate, 3)
    figures["claims"] = options.claims
    figures["memory_per_claimed_slot_bytes"] = round(memory, 1)
    print(f" ratio: {figures['ratio']} (claims/s over floor calls/s; target >= 0.7, claim p99 < 1 ms)")
    print(f"memory: {figures['memory_per_claimed_slot_bytes']} bytes per claimed slot (target <= 300)")
    wait_claims = options.claims if options.wait_claims is None else options.wait_claims
    if wait_claims > 0 and shutil.which("redis-server"):
        figures.update(wait_cost(wait_claims, now))
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
