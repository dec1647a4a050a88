"""The base every part of `Coordinator` stands on: the client, the configuration and the loaded scripts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import redis
from redis.cluster import RedisCluster
from redis.commands.core import Script

from coordinator.config import CoordinatorConfig
from coordinator.lua import ScriptName, script_source

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

    def _run(self, script: ScriptName, keys: Sequence[str], args: Sequence[str | int]) -> object:
        reply: object = self._scripts[script](keys=keys, args=args)
        return reply
