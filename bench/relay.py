"""Relay throughput: events/s from the outbox to the broker, against kombu publishing the same events alone.

Run: `uv run python bench/relay.py [--events N] [--redis-url URL]`. Events are written to a SQLite outbox
of the run's own and relayed with ELS's settings (passes of ELS_OUTBOX_BATCH_SIZE, each run draining for
up to ELS_OUTBOX_DRAIN_SECONDS); the baseline publishes the same bodies with one KombuPublisher in a loop.
Both go to an events exchange of the run's own that nothing is bound to. The last line printed is one
JSON object; `ratio` is the relay's events/s over kombu's.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

if not __package__:
    # Run as a script, bench/ comes first on sys.path and would shadow the project's packages.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import bootstrap
from db.migrate import upgrade
from db.outbox import add_event, count_unpublished
from db.session import unit_of_work
from els.events import BatchSealed, BatchSealedData
from els.settings import Settings
from services.ports import OutgoingEvent
from services.relay import relay_now
from tasks.publisher import KombuPublisher


def events(count: int) -> list[BatchSealed]:
    at = datetime.now(UTC)
    return [
        BatchSealed.create(
            BatchSealedData(batch_id=f"bench-{n}", expected_count=30, closed_at=at),
            correlation_id="b",
            occurred_at=at,
        )
        for n in range(count)
    ]


def kombu_alone(settings: Settings, batch: list[BatchSealed]) -> float:
    outgoing = [
        OutgoingEvent(
            event_id=str(event.event_id),
            event_type=event.event_type,
            routing_key=event.event_type,
            body=event.model_dump_json(),
        )
        for event in batch
    ]
    publisher = KombuPublisher(settings.celery_broker_url, settings.events_exchange)
    try:
        started = time.perf_counter()
        for event in outgoing:
            publisher.publish(event)
        return len(outgoing) / (time.perf_counter() - started)
    finally:
        publisher.close()


def relayed(settings: Settings, batch: list[BatchSealed]) -> tuple[float, int]:
    runtime = bootstrap.build_runtime(settings)
    try:
        with unit_of_work(runtime.engine) as session:
            for event in batch:
                add_event(session, event)
        runs = 0
        started = time.perf_counter()
        while True:
            relay_now(runtime)
            runs += 1
            with unit_of_work(runtime.engine, read_only=True) as session:
                if count_unpublished(session) == 0:
                    break
        return len(batch) / (time.perf_counter() - started), runs
    finally:
        runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        database_url = f"sqlite:///{Path(directory) / 'outbox.db'}"
        upgrade(database_url)
        tag = uuid.uuid4().hex[:8]
        settings = Settings(
            redis_url=args.redis_url,
            database_url=database_url,
            key_prefix=f"bench-relay-{tag}",
            queue=f"bench-relay-{tag}",
            events_exchange=f"els.bench-{tag}",
        )
        baseline = kombu_alone(settings, events(args.events))
        rate, runs = relayed(settings, events(args.events))
    figures = {
        "events": args.events,
        "outbox_batch_size": settings.outbox_batch_size,
        "relay_runs": runs,
        "kombu_events_per_s": round(baseline, 1),
        "relay_events_per_s": round(rate, 1),
        "ratio": round(rate / baseline, 3),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
