"""Capacity on paper: what 10,000 schools in an exam week ask of each shared service, from the benches' JSON.

Run: `uv run python bench/capacity.py [--inputs DIR] [--page FILE] [--check]`. It reads the last JSON line
of each bench, saved as DIR/<bench>.json (docs/capacity/ by default: coordinator, expiry, footprint,
pipeline, relay), works out the demand of the scenario below on state Redis, the broker, PostgreSQL, the
relay and the worker and API cores, and rewrites the generated part of FILE (docs/capacity.md, between
its `capacity:begin` and `capacity:end` markers). `--check` writes nothing and exits 1 when the page is
not what the inputs generate. The last line printed is one JSON object of the headline figures.
"""

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

if not __package__:
    # Run as a script, bench/ comes first on sys.path and would shadow the project's packages.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.capacity_plan import DAY_S, Budgets, Inputs, Plan, Scenario, load, number, plan, read_inputs
from els.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- capacity:begin -->", "<!-- capacity:end -->"


def table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def assumptions(values: Scenario | Budgets) -> list[tuple[str, ...]]:
    return [
        (f"`{item.name}`", number(getattr(values, item.name)), str(item.metadata["doc"]))
        for item in fields(values)
    ]


def render(inputs: Inputs, result: Plan, scenario: Scenario, budgets: Budgets) -> str:
    """The generated part of docs/capacity.md."""
    measured = [
        ("state Redis commands executed", number(inputs.state_commands), "per essay", "footprint (counted)"),
        ("of which the API's rate limits", number(inputs.limit_commands), "per essay", "footprint (counted)"),
        (
            "state Redis bytes in / out",
            f"{number(inputs.state_bytes_in)} / {number(inputs.state_bytes_out)}",
            "per essay",
            "footprint (counted)",
        ),
        (
            "state Redis bytes kept, finished batch of 30",
            number(inputs.kept_bytes),
            "per essay",
            "footprint (MEMORY USAGE)",
        ),
        (
            "state Redis bytes per claimed slot, batch of 1,000",
            number(inputs.claimed_slot_bytes),
            "per slot",
            "coordinator (MEMORY USAGE)",
        ),
        ("broker task messages", number(inputs.broker_messages), "per essay", "footprint (counted)"),
        ("broker bytes in", number(inputs.broker_bytes_in), "per essay", "footprint (counted)"),
        ("events", number(inputs.events), "per essay", "footprint (counted)"),
        ("SQL commits", number(inputs.sql_commits), "per essay", "footprint (counted)"),
        (
            "SQL write statements / rows written",
            f"{number(inputs.sql_writes)} / {number(inputs.sql_rows)}",
            "per essay",
            "footprint (counted)",
        ),
        (
            "worker CPU: process, settle, complete, relay",
            number(inputs.worker_cpu_ms),
            "ms per essay",
            "footprint (timed, no Celery)",
        ),
        (
            "API CPU: rate limits and intake",
            number(inputs.api_cpu_ms),
            "ms per upload",
            "footprint (timed, no HTTP)",
        ),
        ("completion and finalize", number(inputs.completion_cpu_ms), "ms per batch", "footprint (timed)"),
        (
            f"ingest through Celery workers ({inputs.pipeline_database})",
            number(inputs.ingest_per_core),
            "essays/s per core",
            "pipeline (timed)",
        ),
        ("relay", number(inputs.relay_events_per_s), "events/s per run", "relay (timed)"),
        ("one publish from one client", number(inputs.publish_ms), "ms", "relay, kombu alone (timed)"),
        (
            f"expiry walk, {number(inputs.expiry_batches)} batches of {number(inputs.expiry_slots)}",
            number(inputs.expiry_walk_ms_per_batch),
            "ms per batch",
            "expiry (timed)",
        ),
        ("expiry: longest script", number(inputs.expiry_longest_ms), "ms", "expiry (SLOWLOG)"),
    ]
    normal = 1 / scenario.exam_multiplier
    demand = [
        ("batches (classes handing in)", number(result.normal_batches), number(result.exam_batches)),
        ("essays", number(result.normal_essays), number(result.exam_essays)),
        (
            "mean essays/s over the day",
            number(result.normal_essays / DAY_S),
            number(result.exam_essays / DAY_S),
        ),
        (
            "essays/s, mean of the window before midnight",
            number(result.window_mean * normal),
            number(result.window_mean),
        ),
        (
            "essays/s at the peak (window's busiest minutes, plus the rest of the day's)",
            number(result.peak * normal),
            number(result.peak),
        ),
    ]
    services = [
        (
            r.name,
            f"{number(r.demand)} {r.unit}",
            f"{number(r.budget)} {r.unit.removesuffix('s') if r.budget == 1 else r.unit}",
            str(r.units),
            "no limit" if r.ceiling is None else number(r.ceiling),
            "-" if r.ceiling is None else f"{r.saturates_at(scenario.schools):,.0f}",
        )
        for r in result.resources
    ]
    bounded = sorted((r for r in result.resources if r.ceiling is not None), key=lambda r: -r.load)
    first = result.first
    lines = [
        BEGIN,
        "<!-- Generated by `uv run python bench/capacity.py` from docs/capacity/*.json; edit the script. -->",
        "",
        "### What the benches measured",
        "",
        *table(("figure", "value", "per", "bench"), measured),
        "",
        "### The scenario and the planning budgets",
        "",
        *table(("assumption", "value", "meaning"), assumptions(scenario) + assumptions(budgets)),
        "",
        "### Demand",
        "",
        *table(("", "normal day", "exam-week day"), demand),
        "",
        f"### Each service at the exam day's peak ({number(result.peak)} essays/s)",
        "",
        *table(
            (
                "service",
                "demand",
                "one unit carries",
                "units needed",
                "units ELS can use today",
                "full at schools",
            ),
            services,
        ),
        "",
        f"Live state: {number(result.live_essays)} essays' slots held at the end of the exam week (the "
        f"week's uploads, each kept {number(result.kept_days)} days: a day to its deadline, then "
        "`ELS_RETENTION_SECONDS`), at the larger of the two bytes-per-essay figures above. Worker cores: "
        f"{number(result.worker_ms)} ms a core per essay (the footprint's CPU plus Celery's per message); "
        "the pipeline bench's wall-clock rate on this loaded machine would ask for "
        f"{number(result.pipeline_cores)}, an upper bound that also counts Redis, PostgreSQL and the bench "
        "sharing its two cores.",
        "",
        "### Midnight",
        "",
        f"{number(result.expiring)} batches expire at the same instant. Registered days ahead, they have no "
        "countdown message (only deadlines within `ELS_VISIBILITY_TIMEOUT` get one), so the sweep expires "
        f"them: at the default settings that takes {number(result.sweep_hours)} hours. One sweeper's walk "
        f"at the bench's rate would take {number(result.expiry_walk_s)} s, in scripts of at most "
        f"`ELS_EXPIRE_BATCHES_PER_CALL` batches (the longest {number(inputs.expiry_longest_ms)} ms here). "
        f"Their completion and finalize then send {number(result.completion_messages)} messages, commit "
        f"{number(result.completion_commits)} times ({number(result.completion_postgres_s)} s of one "
        f"primary's budget), take {number(result.completion_worker_s)} s of the worker cores above and write "
        f"{number(result.completion_events)} events, which the relay publishes in "
        f"{number(result.completion_relay_s)} s at {number(result.relay_runs)} runs at once.",
        "",
        "### The first bottleneck",
        "",
        f"**{first.name}**: it needs {number(first.load)} times what ELS can use of it today, so it is full "
        f"at about {first.saturates_at(scenario.schools):,.0f} schools. What removes it: {first.removed_by}.",
        "",
        "Everything with a limit, in the order it fills:",
        "",
        *[
            f"- {r.name}: full at {r.saturates_at(scenario.schools):,.0f} schools; {r.removed_by}."
            for r in bounded
        ],
        END,
    ]
    return "\n".join(lines) + "\n"


def replaced(page: str, block: str) -> str:
    """`page` with its generated block replaced by `block`."""
    start, end = page.find(BEGIN), page.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"the page has no {BEGIN} ... {END} block")
    return page[:start] + block + page[end + len(END) + 1 :]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=Path, default=ROOT / "docs" / "capacity")
    parser.add_argument("--page", type=Path, default=ROOT / "docs" / "capacity.md")
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is not what it generates")
    args = parser.parse_args()
    scenario, budgets = Scenario(), Budgets()
    inputs = read_inputs(load(args.inputs))
    result = plan(inputs, scenario, budgets, Settings())
    page = args.page.read_text()
    generated = replaced(page, render(inputs, result, scenario, budgets))
    if args.check:
        if generated != page:
            print(f"{args.page} is not what bench/capacity.py generates: run it", file=sys.stderr)
            raise SystemExit(1)
    else:
        args.page.write_text(generated)
    figures = {
        "peak_essays_per_s": round(result.peak, 1),
        "first_bottleneck": result.first.name,
        "first_bottleneck_load": round(result.first.load, 2),
        "units": {resource.name: resource.units for resource in result.resources},
    }
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
