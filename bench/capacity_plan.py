"""The arithmetic of docs/capacity.md: the scenario, the planning budgets, the bench figures it reads and
the demand they put on each shared service. `bench/capacity.py` renders it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from els.settings import Settings

BENCHES = ("coordinator", "expiry", "footprint", "pipeline", "relay")
DAY_S = 86_400
GIB = 1024**3


def assumption(default: float, doc: str) -> float:
    """A scenario or budget figure with the sentence the page shows for it."""
    value: float = field(default=default, metadata={"doc": doc})
    return value


@dataclass(frozen=True)
class Scenario:
    """The deployment and its busiest day."""

    schools: float = assumption(10_000, "schools")
    classes_per_school: float = assumption(300, "classes per school, each one batch per assignment")
    essays_per_class: float = assumption(30, "essays per class: one slot per student")
    assignments_per_day: float = assumption(0.2, "assignments per class on a normal day (one a week)")
    exam_multiplier: float = assumption(10, "an exam-week day against a normal day")
    exam_days: float = assumption(5, "days of the exam week")
    deadline_share: float = assumption(0.5, "of an exam day's batches, due at the same midnight")
    window_share: float = assumption(0.8, "of their essays, uploaded in the window before midnight")
    window_hours: float = assumption(4, "hours of that window")
    window_peak_to_mean: float = assumption(2, "the window's busiest minutes against its mean")
    incomplete_share: float = assumption(0.5, "of the midnight batches, short of an essay: they expire")
    event_queues: float = assumption(1, "queues bound to the events exchange (one push per event each)")
    expiry_target_s: float = assumption(300, "seconds in which every midnight batch should have expired")


@dataclass(frozen=True)
class Budgets:
    """What one unit of each service is planned to carry: planning figures, not measured here."""

    shard_commands_per_s: float = assumption(
        50_000, "commands/s one Redis shard: half the ~100k/s one Redis core ran unpipelined (baselines)"
    )
    shard_memory_gib: float = assumption(
        24, "GiB of live state one shard: a 32 GiB node, room for AOF rewrite"
    )
    broker_messages_per_s: float = assumption(
        5_000, "messages/s one broker Redis: half the 8-12k Celery tasks/s of one Redis core (baselines)"
    )
    postgres_commits_per_s: float = assumption(
        10_000, "commits/s one PostgreSQL primary (NVMe, group commit)"
    )
    postgres_rows_per_s: float = assumption(100_000, "rows written/s one PostgreSQL primary")
    core_utilisation: float = assumption(0.6, "how busy worker and API cores are planned to be")
    celery_ms_per_message: float = assumption(
        0.65, "ms of a worker core per Celery message: 1,400-1,700 no-op tasks/s a process (baselines)"
    )


def load(directory: Path) -> dict[str, dict[str, object]]:
    """Each bench's JSON object, by bench name."""
    found: dict[str, dict[str, object]] = {}
    for name in BENCHES:
        data = json.loads((directory / f"{name}.json").read_text())
        if not isinstance(data, dict):
            raise SystemExit(f"{directory / name}.json is not one JSON object")
        found[name] = data
    return found


def figure(data: dict[str, object], *path: str) -> float:
    """The number at `path` in a bench's JSON object."""
    value: object = data
    for key in path:
        if not isinstance(value, dict) or key not in value:
            raise SystemExit(f"the bench JSON has no {'.'.join(path)}")
        value = value[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SystemExit(f"{'.'.join(path)} is not a number")
    return float(value)


@dataclass(frozen=True)
class Resource:
    """One shared service at the exam day's peak: its demand, what one unit carries, and how many units
    ELS can use today (`ceiling`, None: as many as are added)."""

    name: str
    unit: str
    demand: float
    budget: float
    ceiling: float | None
    removed_by: str

    @property
    def units(self) -> int:
        return max(1, math.ceil(self.demand / self.budget))

    @property
    def load(self) -> float:
        """Demand over everything ELS can use of it today: past 1, adding units no longer helps."""
        return self.demand / self.budget / (self.ceiling or math.inf)

    def saturates_at(self, schools: float) -> float:
        """How many schools of the scenario fill what ELS can use of it today."""
        return schools / self.load if self.load else math.inf


@dataclass(frozen=True)
class Inputs:
    """The bench figures the arithmetic uses, each named for what it is."""

    state_commands: float
    limit_commands: float  # the API's rate limits' share of state_commands
    state_bytes_in: float
    state_bytes_out: float
    kept_bytes: float
    claimed_slot_bytes: float
    broker_messages: float
    broker_bytes_in: float
    events: float
    sql_commits: float
    sql_writes: float
    sql_rows: float
    worker_cpu_ms: float
    api_cpu_ms: float
    completion_cpu_ms: float  # per batch
    completion_messages: float  # per batch
    completion_commits: float  # per batch
    completion_events: float  # per batch
    ingest_per_core: float
    pipeline_database: str
    relay_events_per_s: float
    publish_ms: float  # one kombu publish from one client, the relay bench's baseline
    expiry_walk_ms_per_batch: float
    expiry_longest_ms: float
    expiry_batches: float
    expiry_slots: float


def read_inputs(data: dict[str, dict[str, object]]) -> Inputs:
    footprint = data["footprint"]
    batches = figure(footprint, "batches")

    def essay(key: str) -> float:
        return figure(footprint, "per_essay", key)

    def batch(*path: str) -> float:
        return figure(footprint, "phases", "complete", *path) / batches

    expiry = data["expiry"]
    database = data["pipeline"].get("database")
    return Inputs(
        state_commands=essay("state_redis_commands"),
        limit_commands=figure(footprint, "phases", "limits", "state_redis", "commands")
        / figure(footprint, "essays"),
        state_bytes_in=essay("state_redis_bytes_in"),
        state_bytes_out=essay("state_redis_bytes_out"),
        kept_bytes=figure(footprint, "state_redis_key_bytes_per_essay"),
        claimed_slot_bytes=figure(data["coordinator"], "memory_per_claimed_slot_bytes"),
        broker_messages=essay("broker_messages"),
        broker_bytes_in=essay("broker_redis_bytes_in"),
        events=figure(footprint, "events_per_essay"),
        sql_commits=essay("sql_commits"),
        sql_writes=essay("sql_writes"),
        sql_rows=essay("sql_rows_written"),
        worker_cpu_ms=essay("worker_cpu_ms"),
        api_cpu_ms=essay("api_cpu_ms"),
        completion_cpu_ms=1000 * batch("client_cpu_s"),
        completion_messages=batch("broker_redis", "pushes"),
        completion_commits=batch("sql", "commits"),
        completion_events=batch("events_written"),
        ingest_per_core=figure(data["pipeline"], "ingest_essays_per_s")
        / figure(data["pipeline"], "concurrency"),
        pipeline_database=database if isinstance(database, str) else "?",
        relay_events_per_s=figure(data["relay"], "relay_events_per_s"),
        publish_ms=1000 / figure(data["relay"], "kombu_events_per_s"),
        expiry_walk_ms_per_batch=figure(expiry, "els", "walk_ms") / figure(expiry, "batches"),
        expiry_longest_ms=figure(expiry, "els", "longest_script_ms"),
        expiry_batches=figure(expiry, "batches"),
        expiry_slots=figure(expiry, "slots_per_batch"),
    )


@dataclass(frozen=True)
class Plan:
    """Every figure of the page."""

    normal_batches: float
    normal_essays: float
    exam_batches: float
    exam_essays: float
    window_mean: float
    spread: float
    peak: float
    live_essays: float
    kept_days: float
    worker_ms: float
    relay_runs: float
    pipeline_cores: float
    resources: tuple[Resource, ...]
    first: Resource
    expiring: float
    expiry_walk_s: float
    sweep_hours: float
    completion_worker_s: float
    completion_commits: float
    completion_messages: float
    completion_events: float
    completion_relay_s: float
    completion_postgres_s: float


def plan(inputs: Inputs, scenario: Scenario, budgets: Budgets, settings: Settings) -> Plan:
    """The scenario's demand on each service, and the units it needs."""
    normal_batches = scenario.schools * scenario.classes_per_school * scenario.assignments_per_day
    exam_batches = normal_batches * scenario.exam_multiplier
    exam_essays = exam_batches * scenario.essays_per_class
    deadline_essays = exam_essays * scenario.deadline_share
    window_mean = deadline_essays * scenario.window_share / (scenario.window_hours * 3600)
    spread = (exam_essays - deadline_essays * scenario.window_share) / DAY_S  # the rest, over the whole day
    peak = window_mean * scenario.window_peak_to_mean + spread
    # A slot's bytes live from its upload until its batch's retention ends (the deadline a day later at most).
    kept_days = settings.retention_seconds / DAY_S + 1
    exam = min(scenario.exam_days, kept_days)
    live_essays = exam_essays * exam + exam_essays / scenario.exam_multiplier * (kept_days - exam)
    live_gib = live_essays * max(inputs.kept_bytes, inputs.claimed_slot_bytes) / GIB
    worker_ms = inputs.worker_cpu_ms + budgets.celery_ms_per_message * inputs.broker_messages
    relay_runs = settings.outbox_drain_seconds  # asked for at most once a second, each drains this long
    util = budgets.core_utilisation
    broker = inputs.broker_messages + inputs.events * scenario.event_queues
    # Midnight: the deadline batches still short of an essay expire at once, then complete and finalize.
    expiring = exam_batches * scenario.deadline_share * scenario.incomplete_share
    # Batches registered further ahead than the visibility timeout get no countdown message: the sweep
    # expires them, at most ELS_SWEEP_LIMIT a tick, one sweep at a time (its lock).
    sweep_rate = settings.sweep_limit / settings.sweep_interval_seconds
    # One sweep walks the due batches and sends each its completion message, under its lock.
    one_sweep_rate = 1000 / (inputs.expiry_walk_ms_per_batch + inputs.publish_ms)
    sweep_limit_most = math.floor(one_sweep_rate * settings.sweep_interval_seconds)
    resources = (
        Resource(
            "state Redis: commands",
            "commands/s",
            peak * inputs.state_commands,
            budgets.shard_commands_per_s,
            settings.shards,
            f"up to `ELS_SHARDS` ({settings.shards}) Redis Cluster nodes (`ELS_REDIS_CLUSTER`); past them a "
            "larger `ELS_SHARDS` for a new deployment, and the rate limits on a Redis of their own",
        ),
        Resource(
            "state Redis: memory",
            "GiB",
            live_gib,
            budgets.shard_memory_gib,
            settings.shards,
            "more cluster nodes up to `ELS_SHARDS`, a shorter `ELS_RETENTION_SECONDS`",
        ),
        Resource(
            "midnight expiry (the sweep)",
            "batches/s",
            expiring / scenario.expiry_target_s,
            sweep_rate,
            1,
            f"a larger `ELS_SWEEP_LIMIT`, up to the {sweep_limit_most:,} a tick one sweep can do in "
            f"its {settings.sweep_interval_seconds:.0f} s ({number(one_sweep_rate)} batches/s: the walk "
            "and one completion message per batch, at the benches' rates), which expires them in "
            f"{expiring / one_sweep_rate / 60:.0f} minutes; sooner needs the expiry walked per shard in "
            "parallel (expire.lua hands each batch out once, so concurrent walks are safe), a code change",
        ),
        Resource(
            "broker: task messages and events",
            "messages/s",
            peak * broker,
            budgets.broker_messages_per_s,
            1,
            "a broker that scales out (RabbitMQ quorum queues, `ELS_BROKER_URL=amqp://...`), or fewer "
            "messages per essay: one processing task for several uploads, events batched per class",
        ),
        Resource(
            "PostgreSQL: commits",
            "commits/s",
            peak * inputs.sql_commits,
            budgets.postgres_commits_per_s,
            1,
            "fewer commits per essay (several uploads stored in one unit, several settles in one), then "
            "databases partitioned by owner",
        ),
        Resource(
            "PostgreSQL: rows written",
            "rows/s",
            peak * inputs.sql_rows,
            budgets.postgres_rows_per_s,
            1,
            "fewer rows per essay, then databases partitioned by owner",
        ),
        Resource(
            "relay",
            "events/s",
            peak * inputs.events,
            inputs.relay_events_per_s,
            relay_runs,
            f"more relay runs at once (`FOR UPDATE SKIP LOCKED` lets them share the outbox; ELS keeps about "
            f"{relay_runs:.0f} going under a backlog, `ELS_OUTBOX_DRAIN_SECONDS`), larger passes",
        ),
        Resource("worker cores", "cores", peak * worker_ms / 1000 / util, 1.0, None, "more worker hosts"),
        Resource(
            "API cores", "cores", peak * inputs.api_cpu_ms / 1000 / util, 1.0, None, "more API processes"
        ),
    )
    first = max(resources, key=lambda resource: resource.load)
    cores = next(resource.units for resource in resources if resource.name == "worker cores")
    completion_ms = inputs.completion_cpu_ms + budgets.celery_ms_per_message * inputs.completion_messages
    return Plan(
        normal_batches=normal_batches,
        normal_essays=normal_batches * scenario.essays_per_class,
        exam_batches=exam_batches,
        exam_essays=exam_essays,
        window_mean=window_mean,
        spread=spread,
        peak=peak,
        live_essays=live_essays,
        kept_days=kept_days,
        worker_ms=worker_ms,
        relay_runs=relay_runs,
        pipeline_cores=peak / inputs.ingest_per_core / util,
        resources=resources,
        first=first,
        expiring=expiring,
        expiry_walk_s=expiring * inputs.expiry_walk_ms_per_batch / 1000,
        sweep_hours=expiring / sweep_rate / 3600,
        completion_worker_s=expiring * completion_ms / 1000 / (cores * util),
        completion_commits=expiring * inputs.completion_commits,
        completion_messages=expiring * inputs.completion_messages,
        completion_events=expiring * inputs.completion_events,
        completion_relay_s=expiring * inputs.completion_events / (inputs.relay_events_per_s * relay_runs),
        completion_postgres_s=expiring * inputs.completion_commits / budgets.postgres_commits_per_s,
    )


def number(value: float) -> str:
    """A figure as the page shows it: thousands separated, three significant digits below 100."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"
