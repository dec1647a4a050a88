"""A worker child whose Redis did not answer at fork builds its runtime at its first task, which retries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis

from els.errors import ConfigurationError
from tasks import installed


@pytest.fixture
def nothing_installed() -> Iterator[None]:
    previous = installed.install(None)
    yield
    installed.install_on_first_use(None)
    installed.install(previous)


def test_the_runtime_is_built_at_first_use_and_an_outage_then_is_retried(nothing_installed: None) -> None:
    built: list[object] = []
    runtime: Any = object()  # stands for the Runtime the worker's builder returns

    def build() -> Any:
        if not built:
            built.append("refused")
            raise redis.ConnectionError("Redis Cluster cannot be reached")  # transient: the task retries
        built.append(runtime)
        return runtime

    installed.install_on_first_use(build)
    with pytest.raises(redis.ConnectionError):
        installed.runtime()
    assert installed.runtime() is runtime
    assert installed.runtime() is runtime and built == ["refused", runtime]  # built once, then kept


def test_without_a_runtime_or_a_builder_the_error_says_how_to_start(nothing_installed: None) -> None:
    with pytest.raises(ConfigurationError, match="start it through `worker`"):
        installed.runtime()
