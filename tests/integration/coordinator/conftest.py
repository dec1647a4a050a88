"""Fixtures of the coordinator tests: a coordinator with a key prefix of the test's own."""

from __future__ import annotations

import pytest
import redis

from coordinator import Coordinator
from els.settings import Settings


@pytest.fixture
def settings(key_prefix: str, redis_url: str) -> Settings:
    """Default settings with this test's own key prefix."""
    return Settings(redis_url=redis_url, key_prefix=key_prefix)


@pytest.fixture
def coordinator(redis_client: redis.Redis, settings: Settings) -> Coordinator:
    """A coordinator on the test Redis, under this test's prefix."""
    return Coordinator.from_settings(settings, redis_client)
