"""ELS's essay path against Celery no-op tasks and against a plain Celery chord doing the same work.

Run: `uv run python bench/pipeline.py [--essays N] [--concurrency C] [--database-url URL] [--matrix]`.
Workers run as separate OS processes (`celery worker --pool prefork -c C --without-gossip
--without-mingle`) on queues and a key prefix of the run's own, with a temporary SQLite database unless
`--database-url` names another (PostgreSQL: a database of its own, migrated by the run). Phases, in one
run:
1. N `els.ping` tasks through ELS's worker: the no-op baseline (acknowledged late, like every ELS task);
2. N small distinct .txt essays for a batch of N slots, uploaded through intake in one request as the
   API does, timed until every slot is assigned (ingest), then until the batch is DONE (whole batch:
   analysis and report);
3. the same N essays through a plain Celery chord (`bench/plain_chord.py`: the same extraction,
   validation and analysis functions, one row per essay and a report row in the same database, no
   coordinator) on a worker with the same pool: what a team without ELS would write.

The last line is one JSON object: `ingest_ratio` (ingest essays/s over no-op tasks/s, target >= 0.8)
and `batch_vs_chord_ratio` (ELS's whole batch essays/s over the plain chord's, target >= 0.8), with the
figures behind them. `--matrix` runs SQLite and PostgreSQL (`--postgres-url`) at `-c 1` and `-c 2`, one
subprocess each, and prints the headline keys of the default row (SQLite, `-c 2`) and one row per
configuration.
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
import sqlalchemy as sa

import bootstrap
from bench import plain_chord
from coordinator import BatchState
from db.migrate import upgrade
from els.settings import Settings
from services.intake import BatchRequest, Upload, register_batch, submit_essays
from services.queries import owned_progress
from tasks.app import create_app
from tasks.health import ping

WORDS = (
    *("river", "library", "bicycle", "garden", "science", "music"),
    *("history", "winter", "market", "harbour", "school", "forest"),
)


def essay(number: int, run: str = "") -> bytes:
    """A small distinct essay of about 60 words, distinct across runs too (`run`): a database kept from
    an earlier run would otherwise hold the same uploads, recorded in that run's deleted blob store."""
    body = " ".join(WORDS[(number + i) % len(WORDS)] for i in range(50))
    return f"Essay number {number} {run}. {body.capitalize()}. It ends here with a full stop.".encode()


def wait(condition: str, check: object, timeout: float) -> float:
    """Seconds until `check()` is true (polled every 5 ms)."""
    start = time.perf_counter()
    while not (callable(check) and check()):
        if time.perf_counter() - start > timeout:
            raise SystemExit(f"timed out waiting for {condition}")
        time.sleep(0.005)
    return time.perf_counter() - start


def worker_command(app: str, queues: str, concurrency: int) -> list[str]:
    """A Celery worker on `queues` with the pool every phase uses."""
    return [
        *(sys.executable, "-m", "celery", "-A", app, "worker", "-Q", queues),
        *("--pool", "prefork", "--concurrency", str(concurrency)),
        *("--without-gossip", "--without-mingle", "--loglevel", "WARNING"),
    ]


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a worker (warm shutdown) and wait for it."""
    process.terminate()
    process.wait(timeout=60)


def els_phases(settings: Settings, n: int, concurrency: int) -> dict[str, float]:
    """The no-op baseline, ingest and whole batch through ELS, against one ELS worker."""
    upgrade(settings.database_url)
    app = create_app(settings)
    app.set_current()  # the no-op baseline sends `ping` through the current app
    runtime = bootstrap.build_runtime(settings, app)
    bootstrap.install(runtime)
    names = (
        *("redis_url", "database_url", "blob_store", "key_prefix", "queue"),
        *("max_expected_essays", "log_level"),
    )
    env = {
        **os.environ,
        **{f"ELS_{k.upper()}": str(v) for k, v in settings.model_dump().items() if k in names},
    }
    queues = f"{settings.queue},{settings.celery_control_queue}"
    worker = subprocess.Popen(
        worker_command("worker", queues, concurrency),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        ping.delay().get(timeout=60)  # the worker is up
        start = time.perf_counter()
        results = [ping.delay() for _ in range(n)]
        for result in results:
            result.get(timeout=120)
        noop = n / (time.perf_counter() - start)

        request = BatchRequest(owner="bench", correlation_id="bench", expected_count=n, deadline_seconds=3600)
        batch_id = register_batch(runtime, request).batch_id
        run = settings.key_prefix
        uploads = [Upload(f"essay-{number}.txt", "text/plain", essay(number, run)) for number in range(n)]
        start = time.perf_counter()
        submit_essays(runtime, "bench", batch_id, uploads, correlation_id="bench")
        intake_ms = (time.perf_counter() - start) * 1000 / n

        def status_is(assigned: int, state: BatchState | None = None) -> bool:
            status = owned_progress(runtime, "bench", batch_id)  # one HMGET: no CPU taken from workers
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
        stop(worker)
    return {"noop": noop, "ingest": ingest, "whole": whole, "intake_ms": intake_ms}


def plain_chord_phase(settings: Settings, n: int, concurrency: int) -> float:
    """Essays/s of the same N essays through a plain Celery chord, from send to its report row."""
    run = uuid.uuid4().hex[:8]
    plain_chord.create_tables(settings.database_url)
    env = {
        **os.environ,
        "PLAIN_BROKER_URL": settings.celery_broker_url,
        "PLAIN_BACKEND_URL": settings.celery_result_backend,
        "PLAIN_DATABASE_URL": settings.database_url,
        "PLAIN_QUEUE": f"{settings.queue}-plain",
        "ELS_LOG_LEVEL": "WARNING",
    }
    plain_chord.app.conf.update(
        broker_url=env["PLAIN_BROKER_URL"],
        result_backend=env["PLAIN_BACKEND_URL"],
        task_default_queue=env["PLAIN_QUEUE"],
    )
    worker = subprocess.Popen(
        worker_command("bench.plain_chord", env["PLAIN_QUEUE"], concurrency),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        warm = plain_chord.batch(f"{run}-warm", [("warm.txt", essay(n + 1))])
        warm.get(timeout=60)  # the worker is up and has analysed once
        uploads = [(f"essay-{number}.txt", essay(number, settings.key_prefix)) for number in range(n)]
        start = time.perf_counter()
        counted = plain_chord.batch(run, uploads).get(timeout=600)
        elapsed = time.perf_counter() - start
    finally:
        stop(worker)
        redis.Redis.from_url(settings.redis_url).delete(env["PLAIN_QUEUE"])
    if counted != n:
        raise SystemExit(f"the plain chord reported {counted} essays, not {n}")
    with sa.create_engine(settings.database_url).connect() as connection:
        rows = connection.scalar(
            sa.select(sa.func.count()).select_from(plain_chord.ESSAYS).where(plain_chord.ESSAYS.c.run == run)
        )
    if rows != n:
        raise SystemExit(f"the plain chord wrote {rows} essay rows, not {n}")
    return n / elapsed


def run_once(n: int, concurrency: int, database_url: str | None, redis_url: str) -> dict[str, object]:
    """One configuration's figures."""
    tag = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            redis_url=redis_url,
            database_url=database_url or f"sqlite:///{folder}/bench.db",
            blob_store=f"{folder}/blobs",
            key_prefix=f"bench-{tag}",
            queue=f"bench-{tag}",
            max_expected_essays=max(1000, n),
            log_level="WARNING",
        )
        client = redis.Redis.from_url(settings.redis_url)
        try:
            els = els_phases(settings, n, concurrency)
            chord = plain_chord_phase(settings, n, concurrency)
        finally:
            keys = list(client.scan_iter(match=f"{settings.key_prefix}:*", count=1000))
            if keys:
                client.delete(*keys)
            client.delete(settings.queue)
            if database_url:
                plain_chord.drop_tables(database_url)
    return {
        "database": sa.make_url(settings.database_url).get_backend_name(),
        "concurrency": concurrency,
        "essays": n,
        "noop_tasks_per_s": round(els["noop"], 1),
        "ingest_essays_per_s": round(els["ingest"], 1),
        "whole_batch_essays_per_s": round(els["whole"], 1),
        "plain_chord_essays_per_s": round(chord, 1),
        "intake_ms_per_upload": round(els["intake_ms"], 2),
        "ingest_ratio": round(els["ingest"] / els["noop"], 3),
        "batch_vs_chord_ratio": round(els["whole"] / chord, 3),
    }


def matrix(args: argparse.Namespace) -> dict[str, object]:
    """SQLite and PostgreSQL at -c 1 and -c 2, each in a subprocess of its own."""
    rows: list[dict[str, object]] = []
    for database in (None, args.postgres_url):
        for concurrency in (1, 2):
            command = [sys.executable, __file__, "--essays", str(args.essays), "--redis-url", args.redis_url]
            command += ["--concurrency", str(concurrency)]
            if database:
                command += ["--database-url", database]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            row: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"{row['database']} -c {concurrency}: ingest ratio {row['ingest_ratio']}  "
                f"batch vs chord {row['batch_vs_chord_ratio']}",
                flush=True,
            )
            rows.append(row)
    default = next(row for row in rows if row["database"] == "sqlite" and row["concurrency"] == 2)
    return {
        "ingest_ratio": default["ingest_ratio"],
        "batch_vs_chord_ratio": default["batch_vs_chord_ratio"],
        "rows": rows,
    }


def main() -> None:
    """Run the phases (or the matrix of configurations) and print the figures, JSON last."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--essays", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=2, help="prefork processes per worker")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--database-url", help="default: a temporary SQLite database")
    parser.add_argument("--matrix", action="store_true", help="SQLite and PostgreSQL at -c 1 and -c 2")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/els_bench")
    args = parser.parse_args()
    if args.matrix:
        print(json.dumps(matrix(args), sort_keys=True))
        return
    figures = run_once(args.essays, args.concurrency, args.database_url, args.redis_url)
    figures["worker"] = f"prefork -c {args.concurrency}, acks_late, prefetch 1"
    figures["celery"] = celery.__version__
    print(
        f"no-op {figures['noop_tasks_per_s']}/s  ingest {figures['ingest_essays_per_s']} essays/s  "
        f"whole batch {figures['whole_batch_essays_per_s']} essays/s  "
        f"plain chord {figures['plain_chord_essays_per_s']} essays/s"
    )
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
