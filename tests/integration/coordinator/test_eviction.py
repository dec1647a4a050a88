"""Coordinator.eviction_warning warns unless Redis runs with noeviction, and copes with a refused CONFIG."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from coordinator import Coordinator
from els.settings import Settings
from tests.integration.coordinator.support import private_redis, redis_server_available

needs_redis_server = pytest.mark.skipif(not redis_server_available(), reason="redis-server not on PATH")


def eviction_warning(port: int) -> str | None:
    with redis.Redis(port=port) as client:
        return Coordinator.from_settings(Settings(), client).eviction_warning()


@needs_redis_server
def test_noeviction_passes_and_an_evicting_policy_warns(tmp_path: Path) -> None:
    with private_redis(tmp_path, "--maxmemory-policy", "noeviction") as port:
        assert eviction_warning(port) is None
    with private_redis(tmp_path, "--maxmemory-policy", "allkeys-lru") as port:
        warning = eviction_warning(port)
        assert warning is not None and "allkeys-lru" in warning


@needs_redis_server
def test_a_server_that_refuses_config_gets_a_warning_not_a_crash(tmp_path: Path) -> None:
    with private_redis(tmp_path, "--rename-command", "CONFIG", '""') as port:
        warning = eviction_warning(port)
        assert warning is not None and "could not read" in warning


def test_an_unreachable_server_raises_rather_than_warns() -> None:
    with pytest.raises(redis.ConnectionError):
        eviction_warning(1)  # nothing listens on port 1
