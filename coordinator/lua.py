"""The Lua sources: each entry script with the shared library prepended, read once per process."""

from __future__ import annotations

from enum import StrEnum
from importlib import resources


class ScriptName(StrEnum):
    """The entry scripts under coordinator/scripts/ (each is lib.lua + `<name>.lua`)."""

    REGISTER = "register"
    RECEIVE = "receive"
    CLAIM = "claim"
    FAIL = "fail"
    EXPIRE = "expire"
    BEGIN_FINALIZE = "begin_finalize"
    COMPLETE_FINALIZE = "complete_finalize"
    REKICK = "rekick"
    STATUS = "status"
    SLOTS = "slots"
    CLOSE = "close"
    CANCEL = "cancel"
    LIST = "list"
    GAUGES = "gauges"
    GATE = "gate"
    ATTEMPT = "attempt"


def _read(name: str) -> str:
    return (resources.files("coordinator") / "scripts" / f"{name}.lua").read_text(encoding="utf-8")


_SOURCES: dict[ScriptName, str] = {}


def script_source(name: ScriptName) -> str:
    """The full source of one entry script: lib.lua followed by `<name>.lua`."""
    source = _SOURCES.get(name)
    if source is None:
        source = _SOURCES[name] = _read("lib") + "\n" + _read(name.value)
    return source
