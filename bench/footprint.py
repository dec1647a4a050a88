"""What one essay costs the shared services: Redis commands and bytes, SQL statements and commits, broker
messages and events, on ELS's real path, counted rather than timed.

Run: `uv run python bench/footprint.py [--batches B] [--essays-per-batch N] [--database-url URL]`. It starts
two private redis-servers, one for live batch state and one as Celery's broker and result backend, so
nothing else on the machine adds to their counts, and a temporary SQLite database unless `--database-url`
names another (a PostgreSQL database of its own, migrated by the run). In one process, as the API and the
worker would call them: B batches of N slots are registered; each essay is uploaded in a request of its
own (the API's two rate-limit checks, counted as a phase of their own, then `submit_essays`), processed
and settled (`process_and_settle`); each batch is completed (`complete_batch`, which dispatches its
finalizer) and finalized (`finalize_batch`); the outbox is relayed (`relay_now`) until nothing is due. No
worker consumes the broker, so every task message stays counted as one push. Between phases Redis's
`INFO commandstats` and `INFO stats` are read on both servers; SQLAlchemy's engine events count
statements, rows written and commits. The last line printed is one JSON object of totals and per-essay
figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

if not __package__:
    # Run as a script, bench/ comes first on sys.path and would shadow the project's packages.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import redis
import sqlalchemy as sa
from sqlalchemy import event

import bootstrap
from bench.pipeline import essay
from cli.embedded_redis import RedisServer
from db.engine import create_db_engine
from db.migrate import upgrade
from db.models import OutboxEvent
from db.outbox import count_unpublished
from db.session import unit_of_work
from els.ids import scoped_id
from els.settings import Settings
from services import limits
from services.completion import complete_batch
from services.finalize import finalize_batch
from services.intake import BatchRequest, Upload, register_batch, submit_essays
from services.process import process_and_settle
from services.relay import relay_now
from services.runtime import Runtime

OWNER = "teacher-bench"
ADDRESS = "203.0.113.7"
PUSHES = ("lpush", "rpush")  # how kombu's Redis transport puts a message on a queue
WRITES = ("INSERT", "UPDATE", "DELETE")


@dataclass(frozen=True)
class RedisReading:
    """One server's cumulative counters at one moment."""

    calls: Mapping[str, int]
    cpu_us: int
    bytes_in: int
    bytes_out: int


def read_redis(client: redis.Redis) -> RedisReading:
    """`INFO commandstats`, `INFO stats` and `INFO cpu` of `client`'s server, as counters (the INFO calls
    count too, and are taken out of the deltas). The CPU figure is an upper bound: it includes the
    server's idle housekeeping for the phase's wall time, which dominates at a bench's low rates.

    Redis counts the commands a Lua script calls as well as the script's own EVALSHA, so `calls` is what
    the server executed, not how many round trips the clients made. CPU is the main thread's, the one
    that serves commands.
    """
    commands = client.info("commandstats")
    stats = client.info("stats")
    cpu = client.info("cpu")
    calls: dict[str, int] = {}
    for name, figures in commands.items():
        if isinstance(name, str) and isinstance(figures, dict):
            calls[name.removeprefix("cmdstat_")] = int(figures["calls"])
    cpu_s = float(cpu["used_cpu_sys_main_thread"]) + float(cpu["used_cpu_user_main_thread"])
    return RedisReading(
        calls, round(cpu_s * 1e6), int(stats["total_net_input_bytes"]), int(stats["total_net_output_bytes"])
    )


@dataclass
class RedisPhase:
    """What one phase cost one server."""

    commands: Counter[str] = field(default_factory=Counter)
    cpu_us: int = 0
    bytes_in: int = 0
    bytes_out: int = 0

    def add(self, before: RedisReading, after: RedisReading) -> None:
        for name, calls in after.calls.items():
            self.commands[name] += calls - before.calls.get(name, 0)
        self.commands["info"] -= 3  # the INFO calls of the reading before
        self.commands = +self.commands  # drop the zeros
        self.cpu_us += after.cpu_us - before.cpu_us
        self.bytes_in += after.bytes_in - before.bytes_in
        self.bytes_out += after.bytes_out - before.bytes_out


@dataclass
class SqlCounts:
    """Statements by kind, rows written and transactions ended, as the engine saw them."""

    statements: Counter[str] = field(default_factory=Counter)
    rows_written: int = 0
    commits: int = 0
    rollbacks: int = 0

    def listen(self, engine: sa.Engine) -> None:
        """Count everything `engine` executes from now on."""

        def executed(
            _conn: sa.Connection, cursor: object, statement: str, *_rest: object, **_options: object
        ) -> None:
            kind = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "?"
            self.statements[kind] += 1
            rowcount = getattr(cursor, "rowcount", -1)
            if kind in WRITES and isinstance(rowcount, int) and rowcount > 0:
                self.rows_written += rowcount

        def committed(_conn: sa.Connection) -> None:
            self.commits += 1

        def rolled_back(_conn: sa.Connection) -> None:
            self.rollbacks += 1

        event.listen(engine, "after_cursor_execute", executed)
        event.listen(engine, "commit", committed)
        event.listen(engine, "rollback", rolled_back)

    def snapshot(self) -> SqlCounts:
        return SqlCounts(Counter(self.statements), self.rows_written, self.commits, self.rollbacks)

    def minus(self, before: SqlCounts) -> dict[str, object]:
        statements = self.statements - before.statements
        return {
            "statements": dict(sorted(statements.items())),
            "writes": sum(statements[kind] for kind in WRITES),
            "rows_written": self.rows_written - before.rows_written,
            "commits": self.commits - before.commits,
            "rollbacks": self.rollbacks - before.rollbacks,
        }


@dataclass
class Meter:
    """Runs each phase between two readings of both servers and the SQL counters."""

    state: redis.Redis
    broker: redis.Redis
    sql: SqlCounts
    outbox_rows: Callable[[], int]  # read through an engine of its own, so it is not counted
    phases: dict[str, dict[str, object]] = field(default_factory=dict)

    def phase(self, name: str, work: Callable[[], object]) -> None:
        state, broker, sql = RedisPhase(), RedisPhase(), self.sql.snapshot()
        events = self.outbox_rows()
        state_before, broker_before = read_redis(self.state), read_redis(self.broker)
        cpu, wall = time.process_time(), time.perf_counter()
        work()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        state.add(state_before, read_redis(self.state))
        broker.add(broker_before, read_redis(self.broker))
        self.phases[name] = {
            "state_redis": redis_figures(state),
            "broker_redis": redis_figures(broker),
            "sql": self.sql.minus(sql),
            "events_written": self.outbox_rows() - events,
            "client_cpu_s": round(cpu, 3),
            "wall_s": round(wall, 3),
        }


def redis_figures(phase: RedisPhase) -> dict[str, object]:
    return {
        "commands": sum(phase.commands.values()),
        "by_command": dict(sorted(phase.commands.items())),
        "cpu_us": phase.cpu_us,
        "bytes_in": phase.bytes_in,
        "bytes_out": phase.bytes_out,
        "pushes": sum(phase.commands[name] for name in PUSHES),
    }


def drive(runtime: Runtime, meter: Meter, batches: int, per_batch: int) -> int:
    """The phases of one run; the number of events relayed."""
    run = uuid.uuid4().hex[:8]
    batch_ids: list[str] = []
    submissions: list[tuple[str, str]] = []

    def register() -> None:
        for _ in range(batches):
            request = BatchRequest(
                owner=OWNER, correlation_id="bench", expected_count=per_batch, deadline_seconds=3600
            )
            batch_ids.append(register_batch(runtime, request).batch_id)

    def admit() -> None:  # the API's two rate-limit checks, once per upload request
        for _ in range(batches * per_batch):
            limits.admit_address(runtime, ADDRESS)
            limits.admit_owner(runtime, OWNER)

    def upload() -> None:
        for number, batch_id in enumerate(batch_ids):
            for index in range(per_batch):
                data = essay(number * per_batch + index, run)
                accepted = submit_essays(
                    runtime,
                    OWNER,
                    batch_id,
                    [Upload(f"essay-{index}.txt", "text/plain", data)],
                    correlation_id="b",
                )
                submissions.append((scoped_id(OWNER, batch_id), accepted[0].submission_id))

    def process() -> None:
        for batch_id, submission_id in submissions:
            process_and_settle(runtime, batch_id, submission_id, "bench")

    def complete() -> None:
        for batch_id in (scoped_id(OWNER, public) for public in batch_ids):
            complete_batch(runtime, batch_id)
            if not finalize_batch(runtime, batch_id):
                raise SystemExit(f"batch {batch_id} was not finalized")

    relayed = 0

    def relay() -> None:
        nonlocal relayed
        while True:
            relayed += relay_now(runtime).published
            with unit_of_work(runtime.engine, read_only=True) as session:
                if count_unpublished(session) == 0:
                    return

    meter.phase("register", register)
    meter.phase("limits", admit)
    meter.phase("upload", upload)
    meter.phase("process", process)
    meter.phase("complete", complete)
    meter.phase("relay", relay)
    return relayed


def stored_bytes(client: redis.Redis, prefix: str) -> int:
    """`MEMORY USAGE` of every key under `prefix`: what the finished batches keep until their retention
    ends, with the owner's quota and rate-limit keys."""
    return sum(int(client.memory_usage(key, samples=0) or 0) for key in client.scan_iter(match=f"{prefix}*"))


def as_float(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def cpu_ms(phases: Mapping[str, Mapping[str, object]], names: tuple[str, ...], essays: int) -> float:
    return round(1000 * sum(as_float(phases[name]["client_cpu_s"]) for name in names) / essays, 3)


def per_essay(phases: Mapping[str, Mapping[str, object]], essays: int, batches: int) -> dict[str, float]:
    """The headline figures, per essay, summed over every phase."""

    def total(part: str, key: str) -> int:
        found = 0
        for figures in phases.values():
            section = figures[part]
            if isinstance(section, dict):
                value = section[key]
                found += value if isinstance(value, int) else 0
        return found

    def share(value: int) -> float:
        return round(value / essays, 3)

    return {
        "state_redis_commands": share(total("state_redis", "commands")),
        "state_redis_cpu_us": share(total("state_redis", "cpu_us")),
        "state_redis_bytes_in": share(total("state_redis", "bytes_in")),
        "state_redis_bytes_out": share(total("state_redis", "bytes_out")),
        "broker_redis_commands": share(total("broker_redis", "commands")),
        "broker_redis_cpu_us": share(total("broker_redis", "cpu_us")),
        "broker_redis_bytes_in": share(total("broker_redis", "bytes_in")),
        "broker_redis_bytes_out": share(total("broker_redis", "bytes_out")),
        "broker_messages": share(total("broker_redis", "pushes")),
        "sql_writes": share(total("sql", "writes")),
        "sql_rows_written": share(total("sql", "rows_written")),
        "sql_commits": share(total("sql", "commits")),
        # This process's CPU: the API's share (register and upload), the worker's (the rest).
        "api_cpu_ms": cpu_ms(phases, ("register", "limits", "upload"), essays),
        "worker_cpu_ms": cpu_ms(phases, ("process", "complete", "relay"), essays),
        "essays_per_batch": round(essays / batches, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--essays-per-batch", type=int, default=30)
    parser.add_argument("--database-url", help="default: a temporary SQLite database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "state").mkdir()
        (Path(folder) / "broker").mkdir()
        state_server = RedisServer(Path(folder) / "state")
        state_server.start()  # before the second picks its port, so the two never pick the same one
        broker_server = RedisServer(Path(folder) / "broker")
        broker_server.start()
        try:
            settings = Settings(
                redis_url=state_server.url,
                broker_url=broker_server.url,
                result_backend=broker_server.url,
                database_url=args.database_url or f"sqlite:///{folder}/footprint.db",
                blob_store=f"{folder}/blobs",
                key_prefix=f"bench-{uuid.uuid4().hex[:8]}",
                max_expected_essays=max(1000, args.essays_per_batch),
                rate_limit_per_token="1000000/minute",
                rate_limit_per_address="1000000/minute",
                log_level="WARNING",
            )
            upgrade(settings.database_url)
            runtime = bootstrap.build_runtime(settings)
            sql = SqlCounts()
            sql.listen(runtime.engine)
            state, broker = redis.Redis.from_url(state_server.url), redis.Redis.from_url(broker_server.url)
            counter = create_db_engine(settings.database_url)

            def outbox_rows() -> int:
                with counter.connect() as connection:
                    return int(connection.scalar(sa.select(sa.func.count()).select_from(OutboxEvent)) or 0)

            meter = Meter(state, broker, sql, outbox_rows)
            try:
                relayed = drive(runtime, meter, args.batches, args.essays_per_batch)
                held = stored_bytes(state, settings.key_prefix)
            finally:
                runtime.close()
                counter.dispose()
                state.close()
                broker.close()
        finally:
            state_server.stop()
            broker_server.stop()
    essays = args.batches * args.essays_per_batch
    figures: dict[str, object] = {
        "database": sa.make_url(settings.database_url).get_backend_name(),
        "batches": args.batches,
        "essays": essays,
        "events": relayed,
        "events_per_essay": round(relayed / essays, 3),
        "state_redis_key_bytes_per_essay": round(held / essays, 1),
        "per_essay": per_essay(meter.phases, essays, args.batches),
        "phases": meter.phases,
    }
    for name, phase in meter.phases.items():
        kept, queued, written = phase["state_redis"], phase["broker_redis"], phase["sql"]
        if isinstance(kept, dict) and isinstance(queued, dict) and isinstance(written, dict):
            print(
                f"{name:>8}: state Redis {kept['commands']} commands, broker {queued['pushes']} messages, "
                f"SQL {written['writes']} writes in {written['commits']} commits, {phase['wall_s']} s"
            )
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
