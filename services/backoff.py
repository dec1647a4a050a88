"""Exponential backoff: how long to wait before the next attempt after a number of failures."""

from __future__ import annotations

from datetime import timedelta


def backoff(attempts: int, base_seconds: float, max_seconds: float) -> timedelta:
    """The wait before the next try after `attempts` failures: doubling from `base_seconds`, capped."""
    return timedelta(seconds=min(max_seconds, base_seconds * 2 ** min(max(0, attempts - 1), 32)))
