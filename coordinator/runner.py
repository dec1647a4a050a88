"""The base every part of `Coordinator` stands on: the client, the configuration and the loaded scripts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import redis
from redis.cluster import RedisCluster
from redis.commands.core import Script

from coordinator.config import CoordinatorConfig
from coordinator.lua import STEPS, ScriptName, script_source
from coordinator.replication import Replicated

Client: TypeAlias = redis.Redis | RedisCluster


def moment(now_ms: int | None) -> str | int:
    """A moment in a script's ARGV: '' is the server's clock (TIME); an int pins one (tests)."""
    return "" if now_ms is None else now_ms


class ScriptRunner:
    """Holds the client and configuration, and runs one registered Lua script."""

    def __init__(self, client: Client, config: CoordinatorConfig) -> None:
        self.client = client
        self.config = config
        # register_script re-sends the source whenever the server answers NOSCRIPT.
        self._scripts: dict[ScriptName, Script] = {
            name: client.register_script(script_source(name)) for name in ScriptName
        }
        # None: no replica is waited for (a single Redis, the embedded default).
        self._replicated: Replicated | None = None
        if config.min_replicas:
            self._replicated = Replicated(client, config.min_replicas, config.replica_timeout_ms)

    def _run(self, script: ScriptName, keys: Sequence[str], args: Sequence[str | int]) -> object:
        replicated = self._replicated
        if replicated is not None and script in STEPS:
            # Acknowledged only once `min_replicas` replicas hold it: NotReplicatedError otherwise.
            return replicated.run(self._scripts[script].sha, script_source(script), keys, args)
        reply: object = self._scripts[script](keys=keys, args=args)
        return reply

    def _primary_of(self, key: str) -> int:
        """An identity of the primary holding `key` (0 for all when no replica is waited for)."""
        return 0 if self._replicated is None else self._replicated.primary_of(key)

    def _confirm(self, key: str) -> None:
        """Return once every write the primary of `key` holds is on `min_replicas` replicas (at once
        without them): before acting on a read that may show a step not yet acknowledged."""
        if self._replicated is not None:
            self._replicated.confirm(key)
