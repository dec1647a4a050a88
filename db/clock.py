"""The time a write is stamped with: the caller's, or now in UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def stamp(at: datetime | None) -> datetime:
    """`at` when the caller fixed the time (a test, a replay), else the current UTC time."""
    return at if at is not None else datetime.now(UTC)
