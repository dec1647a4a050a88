"""What a plan asks a runner to execute, and the plan type itself.

An operation is written once as a plan: a generator that yields calls, receives each raw reply, and
finally yields `Done(result)`. `Coordinator` (sync) and `AsyncCoordinator` (asyncio) only execute the
calls, so key building, argument building and reply parsing exist once for both.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeAlias, TypeVar

T = TypeVar("T")


class ScriptName(StrEnum):
    """The entry scripts under coordinator/scripts/ (each is lib.lua + `<name>.lua`)."""

    REGISTER = "register"
    CLAIM = "claim"
    FAIL = "fail"
    EXPIRE = "expire"
    BEGIN_FINALIZE = "begin_finalize"
    COMPLETE_FINALIZE = "complete_finalize"
    REKICK = "rekick"
    STATUS = "status"
    LIST = "list"


@dataclass(frozen=True, slots=True)
class ScriptCall:
    """Run one entry script with these KEYS and ARGV (one round trip)."""

    script: ScriptName
    keys: tuple[str, ...]
    args: tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class GetCall:
    """GET each key in one non-transactional pipeline; the keys may live in different slots."""

    keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Done(Generic[T]):
    """The final step of a plan: its typed result."""

    value: T


Call: TypeAlias = ScriptCall | GetCall
Plan: TypeAlias = Generator[ScriptCall | GetCall | Done[T], object, None]
