"""request_once and sweep_lock: the two small coordination helpers, against the real Redis."""

from __future__ import annotations

import time
from contextlib import ExitStack

import pytest
import redis

from coordinator import Coordinator
from els.errors import InvalidInputError


def test_request_once_is_true_for_one_caller_until_the_ttl_runs_out(
    coordinator: Coordinator, redis_client: redis.Redis, key_prefix: str
) -> None:
    assert coordinator.request_once("relay-requested", 200)
    assert not coordinator.request_once("relay-requested", 200)
    assert coordinator.request_once("other-request", 200)  # names are independent
    ttl = redis_client.pttl(f"{key_prefix}:relay-requested")
    assert 0 < ttl <= 200
    time.sleep(0.25)
    assert coordinator.request_once("relay-requested", 200)


def test_request_once_checks_its_input_before_redis(coordinator: Coordinator) -> None:
    for name, ttl_ms in (("a:b", 100), ("", 100), ("ok", 0)):
        with pytest.raises(InvalidInputError):
            coordinator.request_once(name, ttl_ms)


def test_sweep_lock_admits_one_holder_and_is_released_on_exit(
    coordinator: Coordinator, redis_client: redis.Redis, key_prefix: str
) -> None:
    lock_key = f"{key_prefix}:sweep-lock"
    with coordinator.sweep_lock(10.0) as first:
        assert first
        assert redis_client.exists(lock_key) == 1
        assert 0 < redis_client.pttl(lock_key) <= 10_000
        with coordinator.sweep_lock(10.0) as second:
            assert not second
        assert redis_client.exists(lock_key) == 1  # the refused caller did not release it
    assert redis_client.exists(lock_key) == 0
    with coordinator.sweep_lock(10.0) as again:
        assert again


def test_sweep_lock_that_expired_meanwhile_is_not_an_error(
    coordinator: Coordinator, redis_client: redis.Redis, key_prefix: str
) -> None:
    lock_key = f"{key_prefix}:sweep-lock"
    with ExitStack() as later:
        with coordinator.sweep_lock(0.1) as acquired:
            assert acquired
            time.sleep(0.2)  # the lock times out; another sweep takes it
            assert later.enter_context(coordinator.sweep_lock(10.0))
        # Leaving the first block raised no LockNotOwnedError and left the new holder's lock alone.
        assert redis_client.exists(lock_key) == 1
    assert redis_client.exists(lock_key) == 0


def test_sweep_lock_is_released_when_the_body_raises(
    coordinator: Coordinator, redis_client: redis.Redis, key_prefix: str
) -> None:
    with pytest.raises(RuntimeError), coordinator.sweep_lock(10.0) as acquired:
        assert acquired
        raise RuntimeError("sweep failed")
    assert redis_client.exists(f"{key_prefix}:sweep-lock") == 0
