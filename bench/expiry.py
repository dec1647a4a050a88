"""A shared deadline at scale: how long the longest expiry script blocks Redis, against one unbounded call.

Run: `uv run python bench/expiry.py [--batches B] [--slots S]`. It starts a private redis-server, registers
B batches of S slots with one deadline (a term's end at midnight), and expires them all twice, on fresh
copies: with ELS's cap on batches per call (ELS_EXPIRE_BATCHES_PER_CALL), and with a cap no call reaches
(the baseline: every due batch in one script per shard). Redis's SLOWLOG records every script's time.
The last line printed is one JSON object; `ratio` is the baseline's longest script over ELS's.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

if not __package__:
    # Run as a script, bench/ comes first on sys.path and this file would shadow the coordinator package.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import redis

from cli.embedded_redis import RedisServer
from coordinator import Coordinator, registration_fingerprint
from els.settings import Settings

HOUR_MS = 3_600_000
NOW = 1_800_000_000_000
UNBOUNDED = 10**9


def register_all(coordinator: Coordinator, batches: int, slots: int) -> None:
    deadline = NOW + HOUR_MS
    fingerprint = registration_fingerprint("bench", slots, HOUR_MS // 1000, "{}")
    for number in range(batches):
        coordinator.register(
            f"term-{number:05d}",
            "bench",
            expected_count=slots,
            deadline_ms=deadline,
            fingerprint=fingerprint,
            correlation_id="bench",
            now_ms=NOW,
        )


def expire_once(client: redis.Redis, settings: Settings, batches: int, slots: int) -> dict[str, float]:
    """Register, then expire everything due; the longest script and the whole walk, in ms."""
    client.flushall()
    coordinator = Coordinator.from_settings(settings, client)
    register_all(coordinator, batches, slots)
    client.slowlog_reset()
    started = time.perf_counter()
    expired = coordinator.expire_due(NOW + HOUR_MS, batches)
    walk_ms = (time.perf_counter() - started) * 1000
    assert len(expired) == batches, f"expired {len(expired)} of {batches}"
    entries = client.slowlog_get(1_000_000)
    scripts = [entry["duration"] / 1000 for entry in entries if entry["command"].startswith(b"EVALSHA")]
    return {
        "longest_script_ms": round(max(scripts, default=0.0), 3),
        "scripts": len(scripts),
        "scripts_over_100us": sum(1 for duration in scripts if duration > 0.1),
        "walk_ms": round(walk_ms, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--slots", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        # Every command is logged, each script as one entry (the commands inside it are not).
        logged = ("--slowlog-log-slower-than", "0", "--slowlog-max-len", "1000000")
        server = RedisServer(Path(directory), ("--save", "", "--appendonly", "no", *logged))
        server.start()
        try:
            client = redis.Redis.from_url(server.url)
            base = Settings(redis_url=server.url, key_prefix="bench", max_expected_essays=max(args.slots, 1))
            per_call = base.expire_batches_per_call
            bounded = expire_once(client, base, args.batches, args.slots)
            baseline = expire_once(
                client,
                base.model_copy(update={"expire_batches_per_call": UNBOUNDED}),
                args.batches,
                args.slots,
            )
            client.close()
        finally:
            server.stop()
    figures = {
        "batches": args.batches,
        "slots_per_batch": args.slots,
        "batches_per_call": per_call,
        "els": bounded,
        "one_call_per_shard": baseline,
        "ratio": round(baseline["longest_script_ms"] / max(bounded["longest_script_ms"], 0.001), 2),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
