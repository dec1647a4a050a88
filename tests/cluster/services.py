"""The processes of a cluster run, each started inside its host's namespace: a Redis Cluster of three
primaries and three replicas, the broker's own redis-server, a private PostgreSQL and prefork workers.

Every process runs in a session of its own, so a signal to its group reaches its children too (a worker's
pool). PostgreSQL refuses to run as root, so it runs as the `postgres` user (or `nobody`) on a data
directory made for the run.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import redis

from tests.cluster.network import Host
from tests.support.workers import ROOT

REDIS_PORTS = tuple(range(7000, 7006))
BROKER_PORT = 6379
SQL_PORT = 5432


class Service:
    """One process of a host, with its own log file."""

    def __init__(self, name: str, host: Host, argv: list[str], log_dir: Path, env: dict[str, str]) -> None:
        self.name = name
        self.host = host
        self.argv = argv
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def alive(self) -> bool:
        """Whether the process is running (a stopped process counts as running)."""
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Start the process in its host's namespace; returns at once."""
        with self.log_path.open("ab") as log:
            log.write(f"\n=== start at {time.time():.3f}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.host.command(*self.argv),
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def signal(self, sig: signal.Signals) -> None:
        """Send `sig` to the process and its children."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)

    def kill(self) -> None:
        """SIGKILL the process group and reap it."""
        self.signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=30)
        self.process = None

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM (after SIGCONT, should it be paused), then SIGKILL if it lingers."""
        if self.alive and self.process is not None:
            self.signal(signal.SIGCONT)
            self.signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        self.kill()

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the log, for a failure message."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def redis_address(host: Host, port: int) -> str:
    """The address of the cluster node on `port`: each node has one of the Redis host's addresses."""
    return (host.address, *host.aliases)[REDIS_PORTS.index(port)]


def redis_node(host: Host, port: int, directory: Path, log_dir: Path, *, cluster: bool) -> Service:
    """A redis-server on `host`'s address; a cluster node (node timeout 2 s) on its own with `cluster`."""
    directory.mkdir(parents=True, exist_ok=True)
    # Redis binds its replication and cluster-bus connections to this address too, so rules can tell
    # one node's traffic from another's.
    address = redis_address(host, port) if cluster else host.address
    argv = [
        "redis-server", "--bind", address, "--port", str(port), "--protected-mode", "no",
        "--save", "", "--appendonly", "no", "--dir", str(directory), "--daemonize", "no",
    ]  # fmt: skip
    if cluster:
        # Nodes of one address: each needs its own nodes file; failover after 2 s without its primary.
        argv += [
            "--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{port}.conf",
            "--cluster-node-timeout", "2000",
        ]  # fmt: skip
    return Service(f"redis-{port}", host, argv, log_dir, dict(os.environ))


def wait_for_redis(address: str, port: int, timeout: float = 15) -> None:
    """Until the node answers PING."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with redis.Redis(host=address, port=port, socket_timeout=1) as client:
                client.ping()
                return
        except redis.RedisError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def create_cluster(host: Host, timeout: float = 30) -> None:
    """Join the six nodes as three primaries with a replica each, and wait for cluster_state:ok."""
    nodes = [f"{redis_address(host, port)}:{port}" for port in REDIS_PORTS]
    subprocess.run(
        ["redis-cli", "--cluster", "create", *nodes, "--cluster-replicas", "1", "--cluster-yes"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    deadline = time.monotonic() + timeout
    for port in REDIS_PORTS:
        with redis.Redis(host=redis_address(host, port), port=port, decode_responses=True) as node:
            while node.cluster("info").get("cluster_state") != "ok":
                if time.monotonic() > deadline:
                    raise RuntimeError(f"node {port} never reached cluster_state:ok")
                time.sleep(0.1)
    wait_for_replicas(host, deadline)


def wait_for_replicas(host: Host, deadline: float) -> None:
    """Until every replica reports its link to its primary up, so a failover has a replica to elect."""
    for port in REDIS_PORTS:
        with redis.Redis(host=redis_address(host, port), port=port, decode_responses=True) as node:
            while True:
                info = node.info("replication")
                if info.get("role") == "master" or info.get("master_link_status") == "up":
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"replica {port} never linked to its primary")
                time.sleep(0.1)


def postgres_user() -> pwd.struct_passwd:
    """The unprivileged account PostgreSQL runs as."""
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError("no postgres or nobody account to run PostgreSQL as")


def postgres_binaries() -> Path:
    """The newest Debian PostgreSQL bin directory."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda path: int(path.split("/")[4]))
    if not found:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
    return Path(found[-1]).parent


def postgres(host: Host, directory: Path, log_dir: Path) -> Service:
    """A PostgreSQL of the run's own on `host`'s address, its data directory initialised first."""
    account = postgres_user()
    binaries = postgres_binaries()
    data = directory / "pgdata"
    directory.mkdir(parents=True, exist_ok=True)
    os.chown(directory, account.pw_uid, account.pw_gid)
    run_as = ["runuser", "-u", account.pw_name, "--"]
    subprocess.run(
        [*run_as, str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    # Clients come from the run's subnet only (the hosts' veth addresses).
    with (data / "pg_hba.conf").open("a") as hba:
        hba.write("host all all 10.231.0.0/24 trust\n")
    argv = [
        *run_as, str(binaries / "postgres"), "-D", str(data), "-h", host.address, "-p", str(SQL_PORT),
        "-k", str(directory), "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "max_connections=200",
    ]  # fmt: skip
    return Service("postgres", host, argv, log_dir, dict(os.environ))


def wait_for_postgres(host: Host, database: str, timeout: float = 30) -> str:
    """Until the server accepts connections; creates `database` and returns its SQLAlchemy URL."""
    dsn = f"postgresql://postgres@{host.address}:{SQL_PORT}/postgres"
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(dsn, autocommit=True, connect_timeout=2) as connection:
                connection.execute(f'CREATE DATABASE "{database}"')
            return f"postgresql+psycopg://postgres@{host.address}:{SQL_PORT}/{database}"
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def celery_worker(host: Host, env: dict[str, str], log_dir: Path, concurrency: int = 2) -> Service:
    """A prefork ELS worker on `host`."""
    argv = [
        sys.executable, "-m", "celery", "-A", "worker", "worker", "--pool=prefork",
        f"--concurrency={concurrency}", f"--hostname={host.name}@%h", "--without-gossip", "--without-mingle",
        "--loglevel=WARNING",
    ]  # fmt: skip
    return Service(f"worker-{host.name}", host, argv, log_dir, env)


def remove_tree(path: Path) -> None:
    """Remove a run's directory, whoever owns its files."""
    shutil.rmtree(path, ignore_errors=True)
