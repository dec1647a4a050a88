"""Claim-path throughput and latency against a trivial EVALSHA floor, from the same client in one run.

Run: `uv run python bench/coordinator.py [--claims N] [--redis-url URL]`. The last line printed is one
JSON object with the figures and `ratio` = claims/s divided by floor calls/s (target >= 0.7, with
claim p99 < 1 ms on loopback), and `memory_per_claimed_slot_bytes`: Redis's `MEMORY USAGE` of every key
of one batch of 1,000 slots, each received and claimed as intake and the worker do it (owner-scoped ids,
ELS's submission ids, sha256 content hashes), divided by its 1,000 slots (target <= 300). Keys live under
a prefix of the run's own and are deleted afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

if not __package__:
    # Run as a script, bench/ comes first on sys.path and this file would shadow the coordinator package.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import redis

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


def main() -> None:
    """Measure the floor and the claim path in alternating rounds; print figures and one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--claims", type=int, default=20_000)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    options = parser.parse_args()

    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(options.redis_url)
    coordinator = Coordinator.from_settings(Settings(key_prefix=prefix), client)
    floor_script = client.register_script("return 1")
    now = time.time_ns() // 1_000_000
    batches = options.claims // BATCH_SIZE + 1
    for number in range(batches):
        coordinator.register(
            f"bench-{number}",
            "bench",
            expected_count=BATCH_SIZE,
            deadline_ms=now + HOUR_MS,
            fingerprint=registration_fingerprint("bench", BATCH_SIZE, 3600, "{}"),
            correlation_id="bench",
            now_ms=now,
        )

    def floor(_: int) -> None:
        floor_script(keys=[f"{prefix}:floor"], args=[])

    def claim(i: int) -> None:
        result = coordinator.claim(f"bench-{i // BATCH_SIZE}", f"sub-{i}", f"hash-{i}", now)
        if result.outcome is not Outcome.ASSIGNED:
            raise RuntimeError(f"claim {i} was {result.outcome}")

    try:
        _timed(0, 2000, floor, [])  # warm-up: connection, script cache, CPU caches
        floor_rate, floor_latencies, claim_rate, claim_latencies = _interleaved(options.claims, floor, claim)
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
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
