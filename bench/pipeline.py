"""Essays/s through process + claim, and through the whole batch to DONE, against Celery no-op tasks/s.

Run: `uv run python bench/pipeline.py [--essays N] [--redis-url URL]`. One worker runs as a separate OS
process (`celery -A worker worker --pool solo --without-gossip --without-mingle`, the same settings for
every phase) on a queue and key prefix of the run's own, with a temporary SQLite database. Phases, in
one run: (1) N `els.ping` tasks (the no-op baseline; like every ELS task, acknowledged late); (2) N
small distinct .txt essays for a batch of N slots, uploaded through intake in one request as the API
does, timed until every slot is assigned (ingest); (3) the
same batch until DONE (analysis chord and report). The last line is one JSON object with the figures
and `ratio` = ingest essays/s over no-op tasks/s (target >= 0.8).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

if not __package__:
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import celery
import redis

import bootstrap
from coordinator import BatchState
from db.migrate import upgrade
from els.settings import Settings
from services.intake import BatchRequest, Upload, register_batch, submit_essays
from tasks.app import create_app
from tasks.health import ping

WORDS = (
    *("river", "library", "bicycle", "garden", "science", "music"),
    *("history", "winter", "market", "harbour", "school", "forest"),
)


def essay(number: int) -> bytes:
    """A small distinct essay of about 60 words."""
    body = " ".join(WORDS[(number + i) % len(WORDS)] for i in range(50))
    return f"Essay number {number}. {body.capitalize()}. It ends here with a full stop.".encode()


def wait(condition: str, check: object, timeout: float) -> float:
    """Seconds until `check()` is true (polled every 5 ms)."""
    start = time.perf_counter()
    while not (callable(check) and check()):
        if time.perf_counter() - start > timeout:
            raise SystemExit(f"timed out waiting for {condition}")
        time.sleep(0.005)
    return time.perf_counter() - start


def main() -> None:
    """Run the three phases against one worker process and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--essays", type=int, default=300)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    tag = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            redis_url=args.redis_url,
            database_url=f"sqlite:///{folder}/bench.db",
            blob_store=f"{folder}/blobs",
            key_prefix=f"bench-{tag}",
            queue=f"bench-{tag}",
            max_expected_essays=max(1000, args.essays),
            log_level="WARNING",
        )
        upgrade(settings.database_url)
        app = create_app(settings)
        app.set_current()  # the no-op baseline sends `ping` through the current app
        runtime = bootstrap.build_runtime(settings, app)
        bootstrap.install(runtime)
        env = {
            **os.environ,
            **{
                f"ELS_{k.upper()}": str(v)
                for k, v in settings.model_dump().items()
                if k
                in (
                    *("redis_url", "database_url", "blob_store", "key_prefix", "queue"),
                    *("max_expected_essays", "log_level"),
                )
            },
        }
        command = [
            *(
                sys.executable,
                "-m",
                "celery",
                "-A",
                "worker",
                "worker",
                "--pool",
                "solo",
                "-Q",
                f"{settings.queue},{settings.celery_control_queue}",
            ),
            *("--without-gossip", "--without-mingle", "--loglevel", "WARNING"),
        ]
        worker = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(settings.redis_url)
        try:
            ping.delay().get(timeout=60)  # the worker is up
            n = args.essays
            start = time.perf_counter()
            results = [ping.delay() for _ in range(n)]
            for result in results:
                result.get(timeout=120)
            noop = n / (time.perf_counter() - start)

            request = BatchRequest(
                owner="bench", correlation_id="bench", expected_count=n, deadline_seconds=3600
            )
            batch_id = register_batch(runtime, request).batch_id
            uploads = [Upload(f"essay-{number}.txt", "text/plain", essay(number)) for number in range(n)]
            start = time.perf_counter()
            submit_essays(runtime, "bench", batch_id, uploads, correlation_id="bench")
            intake_ms = (time.perf_counter() - start) * 1000 / n

            def status_is(assigned: int, state: BatchState | None = None) -> bool:
                status = runtime.coordinator.progress(batch_id)  # one HMGET: no CPU taken from workers
                return (
                    status is not None
                    and status.assigned >= assigned
                    and (state is None or status.state is state)
                )

            wait("ingest", lambda: status_is(n), 600)
            ingest = n / (time.perf_counter() - start)
            wait("done", lambda: status_is(n, BatchState.DONE), 600)
            whole = n / (time.perf_counter() - start)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            keys = list(client.scan_iter(match=f"{settings.key_prefix}:*", count=1000))
            if keys:
                client.delete(*keys)
            client.delete(settings.queue)
    figures = {
        "essays": n,
        "noop_tasks_per_s": round(noop, 1),
        "ingest_essays_per_s": round(ingest, 1),
        "whole_batch_essays_per_s": round(whole, 1),
        "intake_ms_per_upload": round(intake_ms, 2),
        "ratio": round(ingest / noop, 3),
        "worker": "1 process, --pool solo, acks_late, prefetch 1",
        "celery": celery.__version__,
    }
    print(
        f"no-op {noop:.0f}/s  ingest {ingest:.0f} essays/s  "
        f"whole batch {whole:.0f} essays/s  ratio {ingest / noop:.2f}"
    )
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
