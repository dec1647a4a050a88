"""The runtime the tasks of this process run with, installed by the process's entry point at start.

Tasks sit below the composition root, so they never build one: the worker installs it after each fork,
and the demo and tests install theirs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from els.errors import ConfigurationError
from services.runtime import Runtime


@dataclass
class _Installed:
    runtime: Runtime | None = None
    build_on_first_use: Callable[[], Runtime] | None = None


_lock = threading.Lock()
_current = _Installed()


def install(runtime: Runtime | None) -> Runtime | None:
    """Make `runtime` the one the tasks use (None to uninstall); returns the one it replaces."""
    with _lock:
        previous, _current.runtime = _current.runtime, runtime
    return previous


def install_on_first_use(build: Callable[[], Runtime] | None) -> None:
    """Build the runtime when a task first asks for it, not now (None: no longer).

    A worker's pool child whose Redis or SQL did not answer when it was forked gets its runtime this way:
    its tasks retry the outage (the builder raises a transient error) until the runtime builds, instead
    of the child failing every task it takes for good.
    """
    with _lock:
        _current.build_on_first_use = build


def runtime() -> Runtime:
    """The installed runtime, built now if a builder waits for first use; ConfigurationError when the
    entry point installed neither."""
    current = _current.runtime
    if current is not None:
        return current
    with _lock:
        if _current.runtime is None and _current.build_on_first_use is not None:
            _current.runtime = _current.build_on_first_use()  # raises the outage; the task retries it
        if _current.runtime is None:
            raise ConfigurationError("no ELS runtime is installed in this process: start it through `worker`")
        return _current.runtime
