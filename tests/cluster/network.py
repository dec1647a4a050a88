"""Network namespaces of a cluster run: one per host, each on a veth to a bridge in a hub namespace.

Every namespace is named `elsc-<host>`; the bridge lives in `elsc-hub`, so the machine's own network
stack gets no interface, route or rule. Hosts talk over 10.231.0.0/24 only. Partitions are iptables rules
inside a worker's namespace, so they cut that host alone. `cleanup_leftovers` removes what a run that
crashed left behind: every process in an `elsc-` namespace is killed before the namespace goes.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

PREFIX = "elsc-"
HUB = f"{PREFIX}hub"
SUBNET = "10.231.0"


@dataclass(frozen=True)
class Host:
    """One host of the run: its namespace and its address on the subnet."""

    name: str
    address: str
    aliases: tuple[str, ...] = ()  # more addresses of the host, one per Redis node on the Redis host

    @property
    def namespace(self) -> str:
        """The host's network namespace."""
        return f"{PREFIX}{self.name}"

    def command(self, *argv: str) -> list[str]:
        """`argv` run inside this host's namespace."""
        return ["ip", "netns", "exec", self.namespace, *argv]


def ip(*argv: str) -> None:
    """Run one `ip` command, failing loudly with its message."""
    subprocess.run(["ip", *argv], check=True, capture_output=True, timeout=30)


def harness_unavailable() -> str | None:
    """Why the harness cannot run here (not root, a tool or PostgreSQL's binaries missing), or None."""
    if os.geteuid() != 0:
        return "the cluster harness makes network namespaces (ip netns), which needs root"
    for tool in ("ip", "iptables", "redis-server", "redis-cli", "runuser"):
        if shutil.which(tool) is None:
            return f"the cluster harness needs {tool} on PATH"
    if not glob.glob("/usr/lib/postgresql/*/bin/postgres"):
        return "the cluster harness needs PostgreSQL's server binaries (/usr/lib/postgresql/*/bin)"
    return None


def namespaces() -> list[str]:
    """Names of the machine's network namespaces."""
    listed = subprocess.run(["ip", "netns", "list"], check=True, capture_output=True, text=True, timeout=30)
    return [line.split()[0] for line in listed.stdout.splitlines() if line.strip()]


def pids_in(namespace: str) -> list[int]:
    """Pids of every process whose network namespace is `namespace`."""
    found = subprocess.run(
        ["ip", "netns", "pids", namespace], check=False, capture_output=True, text=True, timeout=30
    )
    return [int(pid) for pid in found.stdout.split() if pid.isdigit()]


def kill_namespace(namespace: str, sig: signal.Signals = signal.SIGKILL) -> int:
    """Send `sig` to every process in `namespace` (a host losing power); returns how many there were."""
    pids = [pid for pid in pids_in(namespace) if pid != os.getpid()]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
    return len(pids)


def cleanup_leftovers(keep: tuple[str, ...] = ()) -> list[str]:
    """Kill the processes of, then delete, every `elsc-` namespace (but `keep`); returns those deleted."""
    doomed = [name for name in namespaces() if name.startswith(PREFIX) and name not in keep]
    for name in doomed:
        kill_namespace(name)
    deadline = time.monotonic() + 10
    while any(pids_in(name) for name in doomed) and time.monotonic() < deadline:
        time.sleep(0.1)
    for name in doomed:
        with contextlib.suppress(subprocess.CalledProcessError):
            ip("netns", "del", name)
    return doomed


@dataclass
class Network:
    """The hub and one namespace per host, made on enter and removed (processes first) on exit."""

    hosts: dict[str, Host] = field(default_factory=dict)

    def add(self, name: str, last_octet: int, aliases: int = 0) -> Host:
        """Declare a host (with `aliases` more addresses after its own); its namespace is made on enter."""
        extra = tuple(f"{SUBNET}.{last_octet + 1 + index}" for index in range(aliases))
        host = Host(name, f"{SUBNET}.{last_octet}", extra)
        self.hosts[name] = host
        return host

    def __enter__(self) -> Self:
        cleanup_leftovers()
        try:
            ip("netns", "add", HUB)
            ip("-n", HUB, "link", "add", "br0", "type", "bridge")
            ip("-n", HUB, "link", "set", "br0", "up")
            for index, host in enumerate(self.hosts.values()):
                self._attach(host, index)
        except BaseException:
            cleanup_leftovers()
            raise
        return self

    def _attach(self, host: Host, index: int) -> None:
        ip("netns", "add", host.namespace)
        # Both ends are created in their namespaces: nothing ever appears on the machine's own stack.
        ip("link", "add", "eth0", "netns", host.namespace, "type", "veth", "peer", f"p{index}", "netns", HUB)
        ip("-n", HUB, "link", "set", f"p{index}", "master", "br0", "up")
        for address in (host.address, *host.aliases):
            ip("-n", host.namespace, "addr", "add", f"{address}/24", "dev", "eth0")
        ip("-n", host.namespace, "link", "set", "eth0", "up")
        ip("-n", host.namespace, "link", "set", "lo", "up")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        cleanup_leftovers()


def iptables(host: Host, *rule: str) -> None:
    """Apply one iptables command inside `host`'s namespace."""
    subprocess.run(host.command("iptables", "-w", *rule), check=True, capture_output=True, timeout=30)


def cut(host: Host, peer: str, direction: str) -> None:
    """Drop `host`'s packets to `peer` ("out"), from it ("in"), or both ("both")."""
    if direction in ("out", "both"):
        iptables(host, "-A", "OUTPUT", "-d", peer, "-j", "DROP")
    if direction in ("in", "both"):
        iptables(host, "-A", "INPUT", "-s", peer, "-j", "DROP")


def heal(host: Host) -> None:
    """Remove every rule of `host`'s namespace: it reaches every peer again."""
    iptables(host, "-F", "INPUT")
    iptables(host, "-F", "OUTPUT")


WORKER_HOSTS = ("w1", "w2", "w3")


def topology() -> Network:
    """The run's hosts: the client, the Redis Cluster (.10-.15), the broker, PostgreSQL and three worker
    hosts."""
    network = Network()
    network.add("client", 2)
    network.add("redis", 10, aliases=5)  # one address per node, so a node can be cut from its replica
    network.add("broker", 20)
    network.add("sql", 30)
    for index, name in enumerate(WORKER_HOSTS):
        network.add(name, 101 + index)
    return network
