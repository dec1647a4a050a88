"""check_eviction_policy warns unless Redis runs with noeviction, and copes with a refused CONFIG."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import redis
import redis.asyncio

from coordinator import check_eviction_policy, check_eviction_policy_async
from tests.integration.coordinator.support import private_redis, redis_server_available

needs_redis_server = pytest.mark.skipif(not redis_server_available(), reason="redis-server not on PATH")


@needs_redis_server
def test_noeviction_passes_and_an_evicting_policy_warns(tmp_path: Path) -> None:
    with private_redis(tmp_path, "--maxmemory-policy", "noeviction") as port:
        assert check_eviction_policy(redis.Redis(port=port)) is None
    with private_redis(tmp_path, "--maxmemory-policy", "allkeys-lru") as port:
        warning = check_eviction_policy(redis.Redis(port=port))
        assert warning is not None and "allkeys-lru" in warning


@needs_redis_server
def test_a_server_that_refuses_config_gets_a_warning_not_a_crash(tmp_path: Path) -> None:
    with private_redis(tmp_path, "--rename-command", "CONFIG", '""') as port:
        warning = check_eviction_policy(redis.Redis(port=port))
        assert warning is not None and "could not read" in warning
        async_warning = asyncio.run(check_eviction_policy_async(redis.asyncio.Redis(port=port)))
        assert async_warning is not None and "could not read" in async_warning
