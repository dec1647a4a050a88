"""Rate limits on Redis with the `limits` library: a sliding-window counter per rule and identity.

Each window is two keys, `{<prefix>:limits/...}` and the same name with `/-1`, whose hash tag is the whole
window name, so every counter lives in one slot (safe on Redis Cluster). The counters expire with their
window: an identity that stops sending leaves nothing behind.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping

import redis
from limits import RateLimitItem, parse
from limits.storage import RedisClusterStorage, RedisStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from els.errors import ConfigurationError

# What an identity may hold in a key name; anything else (there should be nothing) becomes "_".
_UNSAFE = re.compile(r"[^A-Za-z0-9_.:-]")
MAX_IDENTITY_CHARS = 64


def parse_rule(setting: str, value: str) -> RateLimitItem | None:
    """The rate limit a setting's "<count>/<period>" names; None for "" (off); ConfigurationError else."""
    if not value.strip():
        return None
    try:
        return parse(value)
    except ValueError as error:
        raise ConfigurationError(
            f"{setting} must look like '600/minute' (or be empty to turn it off); got {value[:40]!r}",
            details={"setting": setting},
        ) from error


class RedisRateLimiter:
    """Counts requests per (rule, identity) and answers how long a refused one should wait."""

    def __init__(self, storage: RedisStorage, rules: Mapping[str, RateLimitItem | None]) -> None:
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        self._rules = {name: item for name, item in rules.items() if item is not None}

    @classmethod
    def on_client(
        cls, client: redis.Redis | None, url: str, prefix: str, rules: Mapping[str, RateLimitItem | None]
    ) -> RedisRateLimiter:
        """A limiter sharing `client`'s connections, or (None: a Redis Cluster) its own cluster client."""
        key_prefix = f"{prefix}:limits"
        if client is None:
            cluster_url = re.sub(r"^rediss?://", "redis+cluster://", url)
            return cls(RedisClusterStorage(cluster_url, key_prefix=key_prefix), rules)
        return cls(RedisStorage(url, connection_pool=client.connection_pool, key_prefix=key_prefix), rules)

    def _identity(self, identity: str) -> str:
        return _UNSAFE.sub("_", identity[:MAX_IDENTITY_CHARS]) or "_"

    def _wait(self, item: RateLimitItem, rule: str, identity: str) -> float:
        stats = self._limiter.get_window_stats(item, rule, identity)
        return max(1.0, stats.reset_time - time.time())

    def hit(self, rule: str, identity: str) -> float | None:
        """Count one request of `identity` under `rule`: None when it may go on, else seconds to wait."""
        item = self._rules.get(rule)
        if item is None:
            return None
        key = self._identity(identity)
        if self._limiter.hit(item, rule, key):
            return None
        return self._wait(item, rule, key)

    def blocked(self, rule: str, identity: str) -> float | None:
        """Seconds to wait when `identity` has used up `rule`, counting nothing; None when it has not."""
        item = self._rules.get(rule)
        if item is None:
            return None
        key = self._identity(identity)
        if self._limiter.test(item, rule, key):
            return None
        return self._wait(item, rule, key)
