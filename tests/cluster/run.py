"""`python -m tests.cluster.run --seed N`: one cluster run, its JSON summary printed last.

Makes the namespaces (network.topology), runs `tests.cluster.session` inside the client's namespace, and
removes every namespace, process and temporary directory afterwards, whatever happened. Exits with the
session's code: 0 when every check held, 1 on a violation, 2 when the run could not start (not root).
`--keep` leaves the run's directory (logs, history.jsonl) for reading.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from types import FrameType

from tests.cluster.faults import KINDS
from tests.cluster.network import harness_unavailable, topology
from tests.support.workers import ROOT


def stop_on_signal(signum: int, frame: FrameType | None) -> None:
    """Turn a SIGTERM into SystemExit, so every `finally` of the run cleans up."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Run one seed in fresh namespaces; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--faults", choices=sorted(KINDS), default="all")
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--slots", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=170.0, help="seconds for the batches to finish")
    parser.add_argument("--keep", action="store_true", help="keep the run's directory")
    args = parser.parse_args(argv)
    reason = harness_unavailable()
    if reason is not None:
        print(reason, file=sys.stderr)
        return 2
    # A SIGTERM (a CI runner giving up, a test timing out) still removes the namespaces and processes.
    signal.signal(signal.SIGTERM, stop_on_signal)
    workdir = Path(tempfile.mkdtemp(prefix="elsc-run-"))
    workdir.chmod(0o755)  # PostgreSQL runs as its own user and must reach its directory
    try:
        with topology() as network:
            command = network.hosts["client"].command(
                sys.executable, "-m", "tests.cluster.session",
                "--seed", str(args.seed), "--workdir", str(workdir), "--faults", args.faults,
                "--batches", str(args.batches), "--slots", str(args.slots), "--timeout", str(args.timeout),
            )  # fmt: skip
            return subprocess.run(command, cwd=ROOT, check=False).returncode
    finally:
        if args.keep:
            print(f"run directory kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
