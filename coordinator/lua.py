"""The Lua sources: each entry script with the shared library prepended, read once per process."""

from __future__ import annotations

from functools import cache
from importlib import resources

from coordinator.calls import ScriptName


def _read(name: str) -> str:
    return (resources.files("coordinator") / "scripts" / f"{name}.lua").read_text(encoding="utf-8")


@cache
def script_source(name: ScriptName) -> str:
    """The full source of one entry script: lib.lua followed by `<name>.lua`."""
    return _read("lib") + "\n" + _read(name.value)
