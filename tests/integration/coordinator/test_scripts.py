"""Script loading: NOSCRIPT recovery, and the Lua side naming keys exactly as keys.py does."""

from __future__ import annotations

import redis

from coordinator import Coordinator, Outcome
from coordinator.lua import ScriptName, script_source
from tests.integration.coordinator.support import NOW, register


def test_scripts_are_reloaded_after_script_flush(coordinator: Coordinator, redis_client: redis.Redis) -> None:
    register(coordinator, "b1", 2)
    redis_client.script_flush()
    assert coordinator.claim("b1", "s1", "h1", NOW).outcome is Outcome.ASSIGNED
    redis_client.script_flush()
    status = coordinator.status("b1")
    assert status is not None and status.assigned == 1


def test_lua_derives_the_same_key_names_as_python(
    coordinator: Coordinator, redis_client: redis.Redis
) -> None:
    shard = coordinator.config.keys.batch("b-7").shard
    probe = script_source(ScriptName.STATUS).split("-- Entry script follows.")[0] + (
        "\nlocal hash = els_batch_key(ARGV[1], ARGV[2])"
        "\nreturn {hash, els_pending_key(hash), els_base(els_batch_at(hash, ARGV[2]))}"
    )
    reply = redis_client.eval(probe, 0, shard.base, "b-7")
    batch = shard.batch("b-7")
    assert reply == [batch.hash.encode(), batch.pending.encode(), shard.base.encode()]


def test_every_entry_script_starts_with_the_shared_library() -> None:
    library = script_source(ScriptName.CLAIM).split("-- Entry script follows.")[0]
    for name in ScriptName:
        assert script_source(name).startswith(library), name
