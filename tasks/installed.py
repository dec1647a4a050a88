"""The runtime the tasks of this process run with, installed by the process's entry point at start.

Tasks sit below the composition root, so they never build one: the worker installs it after each fork,
and the demo and tests install theirs.
"""

from __future__ import annotations

import threading

from els.errors import ConfigurationError
from services.runtime import Runtime

_lock = threading.Lock()
_installed: Runtime | None = None


def install(runtime: Runtime | None) -> Runtime | None:
    """Make `runtime` the one the tasks use (None to uninstall); returns the one it replaces."""
    global _installed
    with _lock:
        previous, _installed = _installed, runtime
    return previous


def runtime() -> Runtime:
    """The installed runtime; ConfigurationError when the entry point installed none."""
    current = _installed
    if current is None:
        raise ConfigurationError("no ELS runtime is installed in this process: start it through `worker`")
    return current
