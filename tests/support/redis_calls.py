"""A real Redis client that records the commands it sends, so a test can count a route's round trips.

Nothing is faked: every command still goes to the real server; the subclass only writes its name down.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import redis


class CountingRedis(redis.Redis):
    """`redis.Redis` that appends the name of every command it sends to `commands`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands: list[str] = []

    def execute_command(self, *args: Any, **options: Any) -> Any:
        """Record the command's name, then send it as redis-py would."""
        self.commands.append(str(args[0]).upper())
        send: Callable[..., Any] = super().execute_command
        return send(*args, **options)


@contextmanager
def counting_client(url: str) -> Iterator[CountingRedis]:
    """A counting client of the Redis at `url`, its connections closed after."""
    pool = redis.ConnectionPool.from_url(url)
    try:
        yield CountingRedis(connection_pool=pool)
    finally:
        pool.disconnect()
