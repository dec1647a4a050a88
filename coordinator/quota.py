"""Per-owner quotas in Redis: open batches, open slots, uploads and bytes per UTC day (scripts/quota.lua).

Every check and its reservation is one script run on keys sharing the owner's hash tag `{q:<owner>}`, so
two requests of one owner racing each other cannot both pass a quota that only one fits (and the script
is legal on Redis Cluster). Keys:

    <prefix>:{q:<owner>}:open          ZSET  batch id -> deadline ms (batches whose deadline has not passed)
    <prefix>:{q:<owner>}:slots         HASH  batch id -> slots
    <prefix>:{q:<owner>}:day:<YYYYMMDD> HASH  uploads, bytes sent that UTC day (expires the day after)

A batch counts as open until its deadline, however early it closes; a quota of 0 is no limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import TypeAlias

import redis
from redis.cluster import RedisCluster
from redis.commands.core import Script

from coordinator import narrow
from coordinator import validation as check
from els.errors import UnexpectedReplyError
from els.settings import Settings

Client: TypeAlias = redis.Redis | RedisCluster

DAY_MS = 86_400_000
_VERDICTS = ("reserved", "held", "released", "exceeded")


@dataclass(frozen=True)
class QuotaLimits:
    """The quotas of every owner of one deployment (0 = no limit)."""

    open_batches: int
    open_slots: int
    uploads_per_day: int
    upload_bytes_per_day: int

    @classmethod
    def from_settings(cls, settings: Settings) -> QuotaLimits:
        """The quotas `settings` give."""
        return cls(
            open_batches=settings.quota_open_batches,
            open_slots=settings.quota_open_slots,
            uploads_per_day=settings.quota_uploads_per_day,
            upload_bytes_per_day=settings.quota_upload_bytes_per_day,
        )


@dataclass(frozen=True)
class QuotaVerdict:
    """What quota.lua answered: `granted`, or the exhausted `quota` and when a retry may pass."""

    verdict: str
    quota: str | None
    retry_after_ms: int

    @property
    def granted(self) -> bool:
        """The request fits (or was already counted)."""
        return self.verdict != "exceeded"


def parse_verdict(raw: object) -> QuotaVerdict:
    """The reply of quota.lua."""
    verdict, quota, retry_after = narrow.array(raw, 3)
    word = narrow.text(verdict)
    if word not in _VERDICTS:
        raise UnexpectedReplyError(f"quota.lua answered an unknown verdict {word!r}")
    return QuotaVerdict(
        verdict=word, quota=narrow.optional_text(quota), retry_after_ms=narrow.integer(retry_after)
    )


def _day(now_ms: int) -> tuple[str, int]:
    """The UTC day of `now_ms` as YYYYMMDD, and the ms left until it ends."""
    moment = datetime.fromtimestamp(now_ms / 1000, UTC)
    return moment.strftime("%Y%m%d"), DAY_MS - now_ms % DAY_MS


class QuotaLedger:
    """Check-and-take of one owner's quotas, one quota.lua run per call."""

    def __init__(self, client: Client, prefix: str, limits: QuotaLimits) -> None:
        self.prefix = prefix
        self.limits = limits
        source = (resources.files("coordinator") / "scripts" / "quota.lua").read_text(encoding="utf-8")
        self._script: Script = client.register_script(source)

    @classmethod
    def from_settings(cls, settings: Settings, client: Client) -> QuotaLedger:
        """The ledger of the deployment `settings` describe, on `client`."""
        return cls(client, settings.key_prefix, QuotaLimits.from_settings(settings))

    def keys(self, owner: str, now_ms: int) -> tuple[str, str, str]:
        """KEYS of quota.lua for `owner` at `now_ms`: open, slots and the day's counters."""
        base = f"{self.prefix}:{{q:{check.check_id('owner', owner)}}}"
        day, _ = _day(now_ms)
        return f"{base}:open", f"{base}:slots", f"{base}:day:{day}"

    def _run(self, owner: str, now_ms: int, args: tuple[str | int, ...]) -> QuotaVerdict:
        reply: object = self._script(keys=self.keys(owner, now_ms), args=args)
        return parse_verdict(reply)

    def reserve_batch(
        self, owner: str, batch_id: str, slots: int, deadline_ms: int, now_ms: int
    ) -> QuotaVerdict:
        """Count a batch of `slots` against the owner's open batches and slots (a batch counts once)."""
        check.check_id("batch_id", batch_id)
        limits = self.limits
        return self._run(
            owner,
            now_ms,
            ("batch", now_ms, batch_id, deadline_ms, slots, limits.open_batches, limits.open_slots),
        )

    def release_batch(self, owner: str, batch_id: str, now_ms: int) -> None:
        """Take back a batch's reservation (its registration was refused)."""
        check.check_id("batch_id", batch_id)
        self._run(owner, now_ms, ("release", now_ms, batch_id))

    def reserve_uploads(self, owner: str, count: int, size: int, now_ms: int) -> QuotaVerdict:
        """Count `count` new uploads of `size` bytes in all against the owner's day."""
        _, day_left = _day(now_ms)
        limits = self.limits
        return self._run(
            owner,
            now_ms,
            ("uploads", now_ms, count, size, limits.uploads_per_day, limits.upload_bytes_per_day, day_left),
        )
