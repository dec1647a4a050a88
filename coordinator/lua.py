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


# The steps: scripts whose reply reports a change they made, or a decision that rests on one (a replay).
# With `min_replicas`, each is acknowledged only once that many replicas hold everything it read and wrote
# (coordinator/replication.py). The rest only read: status, slots, gate (intake's early answer; a refusal
# is confirmed on its own, see `Coordinator.gate`), gauges, and list, whose one write drops index entries
# of batches that are gone, which the next listing does again should a failover lose it.
STEPS: frozenset[ScriptName] = frozenset(
    {
        ScriptName.REGISTER,
        ScriptName.RECEIVE,
        ScriptName.CLAIM,
        ScriptName.FAIL,
        ScriptName.EXPIRE,
        ScriptName.BEGIN_FINALIZE,
        ScriptName.COMPLETE_FINALIZE,
        ScriptName.REKICK,
        ScriptName.CLOSE,
        ScriptName.CANCEL,
        ScriptName.ATTEMPT,
    }
)


def _read(name: str) -> str:
    return (resources.files("coordinator") / "scripts" / f"{name}.lua").read_text(encoding="utf-8")


_SOURCES: dict[ScriptName, str] = {}


def script_source(name: ScriptName) -> str:
    """The full source of one entry script: lib.lua followed by `<name>.lua`."""
    source = _SOURCES.get(name)
    if source is None:
        source = _SOURCES[name] = _read("lib") + "\n" + _read(name.value)
    return source
