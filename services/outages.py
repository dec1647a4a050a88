"""A dependency that does not answer is NotReadyError, so callers retry instead of seeing a crash.

Redis and SQL connection failures (and a broker failure that wraps one) become NotReadyError at the
service boundary; the API answers it with 503 and Retry-After. Every use case wrapped here is safe to
retry: it either stored nothing, or a retry with the same request finds what it stored.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import OperationalError as DatabaseUnavailable

from els.errors import ElsError, NotReadyError

P = ParamSpec("P")
R = TypeVar("R")

_OUTAGES: dict[type[BaseException], str] = {
    RedisConnectionError: "redis",
    RedisTimeoutError: "redis",
    DatabaseUnavailable: "database",
    # What a broker client raises underneath its own wrapper when the broker is unreachable.
    ConnectionError: "broker",
    TimeoutError: "broker",
}


def outage_as_not_ready(use_case: Callable[P, R]) -> Callable[P, R]:
    """Run `use_case`, turning an unreachable Redis, database or broker into NotReadyError."""

    @functools.wraps(use_case)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return use_case(*args, **kwargs)
        except ElsError:
            raise
        except Exception as error:
            dependency = unreachable_dependency(error)
            if dependency is None:
                raise
            raise NotReadyError(
                f"{dependency} is not answering; retry shortly", details={"dependency": dependency}
            ) from error

    return guarded


def unreachable_dependency(error: BaseException) -> str | None:
    """Which dependency `error` (or an error it was raised from) says is unreachable, if any."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for kind, dependency in _OUTAGES.items():
            if isinstance(current, kind):
                return dependency
        current = current.__cause__ or current.__context__
    return None
