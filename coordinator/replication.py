"""A coordination step acknowledged only once `min_replicas` Redis replicas hold it (WAIT).

Redis replicates asynchronously: a primary answers a script before any replica has it, and a replica
promoted after the primary dies has only what reached it. So each step is sent as one pipeline, one round
trip on one connection of the primary holding its keys: the EVALSHA, a write to its shard's fence key,
then `WAIT <min_replicas> <timeout>`. WAIT blocks until that many replicas have acknowledged the
connection's writes so far, and the fence makes "so far" cover everything the script read: a replay
writes nothing of its own, and Redis 7.2 and later move a connection's WAIT offset only with its own
writes, so without the fence the replay of a step still on the primary alone would pass.

Fewer replicas in time raises NotReplicatedError: the step is on the primary but not acknowledged, and
the caller retries it (every script is idempotent under replay). On a Redis Cluster the primary is the
one the cluster client maps the key's slot to; a redirection or a dead connection refreshes that map and
the step is sent once more, then raises SlotMovingError, a `redis.ConnectionError`, which callers retry.

redis-py's exception classes and client classes have unannotated constructors, so naming them in an
expression is an `Any` expression (the coordinator is checked with --disallow-any-expr): they are
matched by name here, as in coordinator/eviction.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeGuard

import redis
from redis.cluster import RedisCluster
from redis.crc import key_slot

from coordinator import narrow
from coordinator.keys import fence_of
from els.errors import ConfigurationError, NotReplicatedError

# A dead or unreachable node, and what a failover or a slot move answers: the slot map is stale.
_UNREACHABLE = ("redis.exceptions.ConnectionError", "redis.exceptions.TimeoutError")
_REDIRECTED = (
    "redis.exceptions.AskError",  # MovedError is one
    "redis.exceptions.ClusterDownError",
    "redis.exceptions.TryAgainError",
    "redis.exceptions.RedisClusterException",  # no node answers, or the slot is not covered
)

_Script = tuple[str, str, Sequence[str], Sequence[str | int]]  # sha, source, KEYS, ARGV


class SlotMovingError(redis.ConnectionError):
    """A Redis Cluster step met a failover or a slot move twice in a row: retry it shortly."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class Replicated:
    """Runs steps (and bare confirmations) with WAIT on the primary of their keys."""

    def __init__(self, client: redis.Redis | RedisCluster, min_replicas: int, timeout_ms: int) -> None:
        self.client = client
        self.min_replicas = min_replicas
        self.timeout_ms = timeout_ms

    def run(self, sha: str, source: str, keys: Sequence[str], args: Sequence[str | int]) -> object:
        """EVALSHA `sha` (loading `source` on NOSCRIPT), fence and WAIT: the script's reply once enough
        replicas hold it. NotReplicatedError when they do not within the timeout."""
        return self._routed(keys[0], (sha, source, keys, args))

    def confirm(self, key: str) -> None:
        """Return once every write the primary of `key` holds now is on enough replicas (fence and WAIT,
        no script): for a caller about to act on what it read. NotReplicatedError otherwise."""
        self._routed(key, None)

    def primary_of(self, key: str) -> int:
        """Which primary holds `key` (an identity, comparable within one walk): a walk that met one
        primary's replicas lagging skips that primary's other shards instead of waiting on each."""
        client = self.client
        if _is_cluster(client):
            try:
                return id(_primary(client, key))
            except Exception as error:
                if not _named(error, *_REDIRECTED):
                    raise
                return -1  # no primary known for the slot: the call itself will find out
        return 0

    def _routed(self, key: str, script: _Script | None) -> object:
        client = self.client
        if _is_standalone(client):
            return self._on(client, key, script)
        if not _is_cluster(client):
            raise ConfigurationError(f"not a Redis client: {type(client).__name__}")
        try:
            return self._on(_primary(client, key), key, script)
        except Exception as error:
            if not _named(error, *_UNREACHABLE, *_REDIRECTED):
                raise
            _refresh(client)
        try:
            return self._on(_primary(client, key), key, script)
        except Exception as error:
            if _named(error, *_UNREACHABLE) or not _named(error, *_REDIRECTED):
                raise
            raise SlotMovingError(f"the slot of {key} is moving: {error}") from error

    def _on(self, node: redis.Redis, key: str, script: _Script | None) -> object:
        """One round trip on one connection of `node`: the script (if any), the fence, WAIT."""
        replies = self._send(node, key, script)
        if script is not None and _named(replies[0], "redis.exceptions.NoScriptError"):
            # A server that lost its scripts (a restart, SCRIPT FLUSH, a replica promoted): load, resend.
            node.script_load(script[1])
            replies = self._send(node, key, script)
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        confirmed = narrow.integer(replies[-1])
        if confirmed < self.min_replicas:
            raise NotReplicatedError(
                f"Redis took the step, but {confirmed} of the {self.min_replicas} replicas required "
                f"confirmed it within {self.timeout_ms} ms; retry shortly",
                details={"dependency": "redis", "replicas": confirmed, "required": self.min_replicas},
            )
        return replies[0] if script is not None else None

    def _send(self, node: redis.Redis, key: str, script: _Script | None) -> list[object]:
        pipe = node.pipeline(transaction=False)
        if script is not None:
            sha, _, keys, args = script
            pipe.evalsha(sha, len(keys), *keys, *args)
        pipe.set(fence_of(key), b"1")
        pipe.wait(self.min_replicas, self.timeout_ms)
        replies: object = pipe.execute(raise_on_error=False)
        return narrow.array(replies, 2 if script is None else 3)


def _named(error: object, *names: str) -> bool:
    """Whether `error` is an instance of a class named (module.qualname) in `names`."""
    return any(f"{kind.__module__}.{kind.__qualname__}" in names for kind in type(error).__mro__)


def _is_standalone(client: redis.Redis | RedisCluster) -> TypeGuard[redis.Redis]:
    return _named(client, "redis.client.Redis")


def _is_cluster(client: redis.Redis | RedisCluster) -> TypeGuard[RedisCluster]:
    return _named(client, "redis.cluster.RedisCluster")


def _primary(client: RedisCluster, key: str) -> redis.Redis:
    """The client of the primary the cluster client maps `key`'s slot to (SlotNotCoveredError, a
    RedisClusterException, while a failover leaves the slot without one)."""
    node = client.nodes_manager.get_node_from_slot(key_slot(key.encode()))
    return client.get_redis_connection(node)


def _refresh(client: RedisCluster) -> None:
    """Read the slot map again from the cluster (after a failover or a slot move)."""
    try:
        client.nodes_manager.initialize()
    except Exception as error:
        if not _named(error, "redis.exceptions.RedisClusterException"):
            raise
        raise SlotMovingError(f"the Redis Cluster's slot map cannot be read: {error}") from error
