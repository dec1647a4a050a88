"""One cluster run inside the client's namespace: bring the processes up, play the workload and the
seeded faults, gather the final state and the events, check, print the JSON summary last.

Started by `tests.cluster.run` (which owns the namespaces); exits 1 on a violation (a run that does not
finish in time is one), the summary carrying the seed and the history slices that show it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from bootstrap import build_runtime
from coordinator.keys import KeySpace, shard_of
from services.relay import relay_now
from tests.chaos.scenario import bind_event_queue, consume_events
from tests.cluster.checker import check
from tests.cluster.cluster import LEASE_SECONDS, Cluster
from tests.cluster.directed import LostCompletion
from tests.cluster.faults import KINDS, Injector, plan_faults
from tests.cluster.history import History, snapshot
from tests.cluster.network import WORKER_HOSTS
from tests.cluster.services import BROKER_PORT, SQL_PORT
from tests.cluster.workload import TRANSIENT, Beat, finished, plan, register_all, upload

FAULT_WINDOW = 60.0  # every fault is over by then
EXPIRING_DEADLINE = 45  # seconds: the expiring batch closes while faults still play
TIMEOUT = 170.0  # from the first upload to every batch DONE, by default


def run(seed: int, workdir: Path, faults: str, batches: int, slots: int, timeout: float) -> dict[str, Any]:
    """The whole run; returns the summary (with `violations`)."""
    history = History(seed)
    started = time.monotonic()
    with Cluster(workdir) as cluster:
        settings = cluster.start()
        runtime = build_runtime(settings)
        events = bind_event_queue(
            settings.celery_broker_url, settings.events_exchange, f"elsc-events-{uuid.uuid4().hex[:8]}"
        )
        hosts = cluster.hosts
        schedule = plan_faults(
            seed, KINDS[faults], list(WORKER_HOSTS), lease=LEASE_SECONDS, until=FAULT_WINDOW, batches=batches
        )
        workload = plan(seed, batches=batches, slots=slots, expiring_deadline=EXPIRING_DEADLINE)
        keys = KeySpace(prefix=settings.key_prefix, shards=settings.shards)
        injector = Injector(
            schedule,
            history,
            hosts,
            cluster.workers,
            cluster.redis_nodes,
            peers={
                # iptables takes a comma-separated list: every node of the cluster.
                "partition-redis": ",".join((hosts["redis"].address, *hosts["redis"].aliases)),
                "partition-sql": hosts["sql"].address,
                "partition-broker": hosts["broker"].address,
            },
            batch_keys=[keys.shard(shard_of(batch, settings.shards)).deadlines for batch in workload.batches],
            restart=cluster.restart_worker,
        )
        first = next(iter(workload.batches))
        directed = LostCompletion(
            runtime, history, hosts["redis"], cluster.redis_nodes, first, injector.batch_keys[0], slots
        )
        history.record(
            "setup", seconds=round(time.monotonic() - started, 1), faults=[f.describe() for f in schedule]
        )
        register_all(runtime, history, workload.requests)
        clock = time.monotonic()
        beat = Beat(runtime, history)

        def tick() -> None:
            injector.tick(time.monotonic() - clock)
            if faults == "lost-completion":
                directed.tick()
            beat()

        # Uploads spread over the first half of the fault window, so faults meet work in flight.
        spacing = FAULT_WINDOW / 2 / max(1, len(workload.uploads))
        for index, item in enumerate(workload.uploads):
            while time.monotonic() - clock < index * spacing:
                tick()
                time.sleep(0.05)
            upload(runtime, history, item, tick)
        batch_ids = list(workload.batches)
        done = False
        while time.monotonic() - clock < timeout:
            tick()
            try:
                played = len(injector.ended) == len(schedule) and (
                    faults != "lost-completion" or directed.done
                )
                if played and finished(runtime, batch_ids):
                    done = True
                    break
            except TRANSIENT:
                pass
            time.sleep(0.2)
        injector.heal_all()
        elapsed = time.monotonic() - clock
        relay_now(runtime)  # what the workers' relay has not published yet
        for event_type, event_id, batch in consume_events(settings.celery_broker_url, events):
            history.record("event", type=event_type, event_id=event_id, batch=batch)
        final = snapshot(runtime, batch_ids)
        history.record("state", batches=final)
        runtime.close()
        verdict = check(history, workload.batches, final)
        if not done:
            verdict.add(history, "finished", batch_ids[0], f"not every batch DONE after {timeout:.0f} s")
        history.write(workdir / "history.jsonl")
        tails = cluster.log_tails() if verdict.violations else ""
    return {
        "seed": seed,
        "faults": faults,
        "seconds": round(elapsed, 1),
        "setup_seconds": round(time.monotonic() - started - elapsed, 1),
        "faults_played": [fault.describe() for fault in injector.started],
        "requests": sum(1 for entry in history.entries if entry["kind"] == "invoke"),
        "failed_requests": sum(1 for entry in history.entries if entry["kind"] == "fail"),
        "events_consumed": sum(1 for entry in history.entries if entry["kind"] == "event"),
        "sql": f"{hosts['sql'].address}:{SQL_PORT}",
        "broker": f"{hosts['broker'].address}:{BROKER_PORT}",
        **dict(verdict.totals),
        "violations": verdict.violations,
        "worker_logs": tails,
    }


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run, print the summary last; 0 when every check held."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--faults", choices=sorted(KINDS), default="all")
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--slots", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=TIMEOUT)
    args = parser.parse_args(argv)
    summary = run(args.seed, args.workdir, args.faults, args.batches, args.slots, args.timeout)
    (args.workdir / "summary.json").write_text(json.dumps(summary, default=str, indent=1))
    print(json.dumps(summary, default=str))
    return 1 if summary["violations"] else 0


if __name__ == "__main__":
    sys.exit(main())
