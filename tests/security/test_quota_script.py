"""quota.lua on real Redis: one script per check, keys in one slot, every key expiring."""

from __future__ import annotations

import redis
from redis.crc import key_slot

from coordinator.quota import QuotaLedger, QuotaLimits

NOW = 1_800_000_000_000


def test_reservations_are_counted_once_bounded_and_expire(redis_client: redis.Redis, key_prefix: str) -> None:
    ledger = QuotaLedger(redis_client, key_prefix, QuotaLimits(2, 100, 3, 1000))
    deadline = NOW + 60_000
    assert ledger.reserve_batch("alice", "b1", 10, deadline, NOW).verdict == "reserved"
    assert ledger.reserve_batch("alice", "b1", 10, deadline, NOW).verdict == "held"
    assert ledger.reserve_batch("alice", "b2", 10, deadline, NOW).verdict == "reserved"
    refused = ledger.reserve_batch("alice", "b3", 10, deadline, NOW)
    assert not refused.granted and refused.quota == "open_batches"
    assert refused.retry_after_ms == 60_000
    # Past the deadlines the batches no longer count.
    assert ledger.reserve_batch("alice", "b3", 10, NOW + 120_000, NOW + 61_000).verdict == "reserved"
    assert ledger.reserve_uploads("alice", 3, 900, NOW).granted
    day = ledger.reserve_uploads("alice", 1, 1, NOW)
    assert not day.granted and day.quota == "uploads_per_day"
    keys = [key.decode() for key in redis_client.scan_iter(match=f"{key_prefix}:*")]
    assert len(keys) == 3
    assert len({key_slot(key.encode()) for key in keys}) == 1
    assert all(redis_client.pttl(key) > 0 for key in keys)


def test_quota_of_zero_is_no_limit(redis_client: redis.Redis, key_prefix: str) -> None:
    ledger = QuotaLedger(redis_client, key_prefix, QuotaLimits(0, 0, 0, 0))
    for n in range(20):
        assert ledger.reserve_batch("bob", f"b{n}", 1000, NOW + 1000, NOW).granted
    assert ledger.reserve_uploads("bob", 10_000, 10**12, NOW).granted
