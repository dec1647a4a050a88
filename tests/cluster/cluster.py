"""Bringing the run's processes up and down, from inside the client's namespace.

The Redis Cluster, the broker and PostgreSQL start together; the cluster is joined, the database created
and migrated, then one prefork worker starts on each worker host. `stop` ends every process it started,
whatever state the run left them in (paused, partitioned, killed).
"""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from types import TracebackType
from typing import Self

from db.migrate import upgrade
from els.settings import Settings
from tests.cluster.network import WORKER_HOSTS, Host, heal, topology
from tests.cluster.services import (
    BROKER_PORT,
    REDIS_PORTS,
    Service,
    celery_worker,
    create_cluster,
    postgres,
    redis_address,
    redis_node,
    wait_for_postgres,
    wait_for_redis,
)
from tests.support.workers import worker_environment

# The finalize lease (ELS_STUCK_AFTER_SECONDS): a worker paused longer than this loses its finalize.
LEASE_SECONDS = 8


class Cluster:
    """Every process of a run, with the settings the client and the workers share."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.hosts: dict[str, Host] = topology().hosts
        redis_host = self.hosts["redis"]
        self.redis_nodes = {
            port: redis_node(redis_host, port, workdir / "redis", self.logs, cluster=True)
            for port in REDIS_PORTS
        }
        self.broker = redis_node(
            self.hosts["broker"], BROKER_PORT, workdir / "broker", self.logs, cluster=False
        )
        self.sql = postgres(self.hosts["sql"], workdir / "sql", self.logs)
        self.workers: dict[str, Service] = {}
        self.settings: Settings | None = None

    @property
    def services(self) -> list[Service]:
        """Every process of the run."""
        return [*self.workers.values(), *self.redis_nodes.values(), self.broker, self.sql]

    def start(self) -> Settings:
        """Start the stores, then the workers; returns the shared settings."""
        for service in (*self.redis_nodes.values(), self.broker, self.sql):
            service.start()
        for port in REDIS_PORTS:
            wait_for_redis(redis_address(self.hosts["redis"], port), port)
        wait_for_redis(self.hosts["broker"].address, BROKER_PORT)
        create_cluster(self.hosts["redis"])
        database_url = wait_for_postgres(self.hosts["sql"], "els")
        upgrade(database_url)
        tag = uuid.uuid4().hex[:8]
        broker = f"redis://{self.hosts['broker'].address}:{BROKER_PORT}/0"
        self.settings = Settings(
            redis_url=f"redis://{self.hosts['redis'].address}:{REDIS_PORTS[0]}",
            redis_cluster=True,
            broker_url=broker,
            result_backend=broker,
            database_url=database_url,
            blob_store=str(self.workdir / "blobs"),
            key_prefix=f"elsc-{tag}",
            queue=f"elsc-{tag}",
            events_exchange=f"els.events.elsc-{tag}",
            # Short enough that work a killed or partitioned worker held comes back within the run.
            visibility_timeout=20,
            task_time_limit=15,
            task_soft_time_limit=12,
            stuck_after_seconds=LEASE_SECONDS,
            late_grace_seconds=30,
            # A step is acknowledged once the replica of its primary holds it, so no failover, lagged
            # or not, takes back what ELS answered (docs/reliability.md).
            redis_min_replicas=1,
        )
        env = worker_environment(self.settings, ELS_LOG_LEVEL="WARNING", ELS_LOG_JSON="true")
        for name in WORKER_HOSTS:
            self.workers[name] = celery_worker(self.hosts[name], env, self.logs)
            self.workers[name].start()
        return self.settings

    def restart_worker(self, name: str) -> None:
        """Start the worker of a host that was killed, as its supervisor would."""
        worker = self.workers[name]
        if worker.process is not None:
            with contextlib.suppress(ChildProcessError):
                worker.process.wait(timeout=10)
        worker.start()

    def stop(self) -> None:
        """Heal every host and end every process."""
        for name in WORKER_HOSTS:
            with contextlib.suppress(Exception):
                heal(self.hosts[name])
        for service in self.services:
            service.stop(timeout=5)

    def log_tails(self) -> str:
        """The workers' last log lines."""
        return "\n".join(f"--- {name}\n{worker.log_tail()}" for name, worker in self.workers.items())

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
