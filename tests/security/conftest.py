"""The security suite: the API on real services, with deployments of its own where a test needs limits."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

import pytest
import redis
from celery import Celery
from fastapi.testclient import TestClient

from els.settings import Settings
from tests.e2e.api.conftest import api_settings, client, digest, serving

__all__ = ["api_settings", "client"]


@dataclass(frozen=True)
class Served:
    """A running API and the settings it runs with."""

    client: TestClient
    settings: Settings


Serve = Callable[..., AbstractContextManager[Served]]


def redis_keys(settings: Settings, pattern: str = "*") -> int:
    """How many keys of the deployment's prefix match `pattern` in Redis."""
    connection = redis.Redis.from_url(settings.redis_url)
    try:
        return sum(1 for _ in connection.scan_iter(match=f"{settings.key_prefix}:{pattern}", count=1000))
    finally:
        connection.close()


@pytest.fixture
def serve(api_settings: Settings, celery_app: Celery) -> Iterator[Serve]:
    """Serve the API with settings changed for one test; a fresh key prefix unless one is given."""
    prefixes: list[str] = []

    @contextmanager
    def start(**updates: object) -> Iterator[Served]:
        changes = {"key_prefix": f"elssec-{uuid.uuid4().hex[:10]}", **updates}
        prefixes.append(str(changes["key_prefix"]))
        settings = api_settings.model_copy(update=changes)
        with serving(settings, celery_app) as test_client:
            yield Served(test_client, settings)

    yield start
    connection = redis.Redis.from_url(api_settings.redis_url)
    try:
        for prefix in prefixes:
            keys = list(connection.scan_iter(match=f"{prefix}:*", count=1000))
            if keys:
                connection.delete(*keys)
    finally:
        connection.close()


def owner_tokens(api_settings: Settings, *owners: str) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """ELS_API_TOKENS adding one fresh token per owner, and each owner's Authorization header."""
    tokens = dict(api_settings.api_tokens)
    headers: dict[str, dict[str, str]] = {}
    for owner in owners:
        token = f"{owner}-{uuid.uuid4().hex}"
        tokens[digest(token)] = owner
        headers[owner] = {"Authorization": f"Bearer {token}"}
    return tokens, headers
