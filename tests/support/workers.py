"""Real Celery workers as separate OS processes (`celery -A worker worker`), to kill and restart.

`FAULTY_APP` runs the same app with the test faults of `tests/support/faults.py` installed.

Each worker runs in a session of its own, so killing its process group takes the main process and every
pool child at once, as a machine or container crash would. Settings reach the workers as `ELS_*`
environment variables, exactly as in a deployment.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from els.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
REAL_APP = "worker"
FAULTY_APP = "tests.support.faulty_worker"


def worker_environment(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a worker process built from `settings` (every field as an `ELS_*` variable)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ELS_")}
    for name, value in settings.model_dump(mode="json", exclude_none=True).items():
        if isinstance(value, dict):
            continue  # api_tokens: workers never read them
        env[f"ELS_{name.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
    env.update(extra)
    env["PYTHONPATH"] = str(ROOT)
    return env


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (Linux /proc)."""
    children: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may contain spaces; the fields after its closing parenthesis do not.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            children.append(int(entry.name))
    return children


class WorkerProcess:
    """One `celery worker` process (prefork by default) with its own log file."""

    def __init__(
        self,
        name: str,
        env: dict[str, str],
        log_dir: Path,
        *,
        concurrency: int = 2,
        options: tuple[str, ...] = (),
        app_module: str = REAL_APP,
    ) -> None:
        self.name = name
        self.env = env
        self.options = options
        self.log_path = log_dir / f"{name}.log"
        self.concurrency = concurrency
        self.app_module = app_module
        self.starts = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def alive(self) -> bool:
        """Whether the main process is running."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the worker; returns at once (it connects and consumes in the background)."""
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"\n=== start {self.starts} at {time.time():.3f}\n".encode())
            log.flush()
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    self.app_module,
                    "worker",
                    "--pool=prefork",
                    f"--concurrency={self.concurrency}",
                    f"--hostname={self.name}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--loglevel=WARNING",
                    *self.options,
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def pool_children(self) -> list[int]:
        """Pids of the pool's child processes right now."""
        return children_of(self._process.pid) if self.alive and self._process is not None else []

    def kill_child(self, pid: int) -> None:
        """SIGKILL one pool child, as the OOM killer would; the main process replaces it."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    def kill(self) -> None:
        """SIGKILL the main process and all its children at once."""
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop(self, timeout: float = 30) -> None:
        """Warm shutdown (SIGTERM), falling back to SIGKILL."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=timeout)
        self.kill()

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of this worker's log, for a failure message."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class WorkerFleet:
    """Several worker processes on one queue; stopped (and killed if need be) on exit."""

    def __init__(
        self,
        settings: Settings,
        log_dir: Path,
        *,
        size: int = 2,
        concurrency: int = 2,
        app_module: str = REAL_APP,
        **extra_env: str,
    ) -> None:
        env = worker_environment(settings, ELS_LOG_LEVEL="WARNING", ELS_LOG_JSON="true", **extra_env)
        self.workers = [
            WorkerProcess(f"w{index}", env, log_dir, concurrency=concurrency, app_module=app_module)
            for index in range(size)
        ]

    def start(self) -> None:
        """Start every worker."""
        for worker in self.workers:
            worker.start()

    def stop(self) -> None:
        """Stop every worker."""
        for worker in self.workers:
            worker.stop()

    def restart_exited(self) -> int:
        """Start again every worker whose process exited, as compose's `restart: unless-stopped` does."""
        exited = [worker for worker in self.workers if not worker.alive]
        for worker in exited:
            worker.start()
        return len(exited)

    def log_tails(self) -> str:
        """Every worker's last log lines."""
        return "\n".join(f"--- {worker.name}\n{worker.log_tail()}" for worker in self.workers)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
