"""The start-up check that Redis will never evict the coordinator's keys.

Redis is the only source of truth for live batches: an eviction policy other than `noeviction` would
silently lose slots and seals under memory pressure. Callers log the warning loudly.
"""

from __future__ import annotations

import redis
from redis.cluster import RedisCluster

POLICY = "maxmemory-policy"


def _policies(reply: object) -> set[str]:
    """Every maxmemory-policy value in a CONFIG GET reply (a cluster answers per node, nested)."""
    found: set[str] = set()
    if isinstance(reply, dict):
        entries: dict[object, object] = reply
        for key, value in entries.items():
            name = key.decode() if isinstance(key, bytes) else key
            if name == POLICY and isinstance(value, bytes | str):
                found.add(value.decode() if isinstance(value, bytes) else value)
            else:
                found |= _policies(value)
    return found


def eviction_warning(reply: object) -> str | None:
    """The warning a CONFIG GET maxmemory-policy reply calls for, or None when it is `noeviction`."""
    return _warning(_policies(reply))


def _warning(policies: set[str]) -> str | None:
    if not policies:
        return f"could not read {POLICY}; make sure Redis runs with noeviction"
    unsafe = sorted(policies - {"noeviction"})
    if unsafe:
        return f"Redis {POLICY} is {', '.join(unsafe)}: batch state can be evicted; set it to noeviction"
    return None


def _is_response_error(error: BaseException) -> bool:
    # redis-py's ResponseError, matched by name: its constructor is unannotated, so naming the class in an
    # expression would be an `Any` expression (the coordinator is checked with --disallow-any-expr).
    return any(
        f"{kind.__module__}.{kind.__qualname__}" == "redis.exceptions.ResponseError"
        for kind in type(error).__mro__
    )


def read_policies(client: redis.Redis | RedisCluster) -> set[str]:
    """Every maxmemory-policy the server (each node of a cluster) runs with; empty when it will not say."""
    try:
        reply: object = client.config_get(POLICY)
    except Exception as error:
        if not _is_response_error(error):
            raise
        return set()  # managed servers may refuse CONFIG
    return _policies(reply)


def check_eviction_policy(client: redis.Redis | RedisCluster) -> str | None:
    """A warning when Redis may evict keys (or will not say), None when it runs with `noeviction`."""
    return _warning(read_policies(client))


def evicting_policy(client: redis.Redis | RedisCluster) -> str | None:
    """The warning when Redis is known to run an evicting policy; None for noeviction or when it won't say."""
    policies = read_policies(client)
    return _warning(policies) if policies else None
