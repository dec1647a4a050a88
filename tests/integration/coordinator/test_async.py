"""AsyncCoordinator runs the same plans through redis.asyncio, NOSCRIPT recovery included."""

from __future__ import annotations

import asyncio

import redis.asyncio

from coordinator import AsyncCoordinator, BatchState, Outcome, registration_fingerprint
from els.settings import Settings
from tests.integration.coordinator.support import HOUR_MS, NOW


async def lifecycle(settings: Settings) -> None:
    client = redis.asyncio.Redis.from_url(settings.redis_url)
    try:
        coordinator = AsyncCoordinator.from_settings(settings, client)
        registered = await coordinator.register(
            "b1",
            "alice",
            expected_count=2,
            deadline_ms=NOW + HOUR_MS,
            fingerprint=registration_fingerprint("alice", 2, 3600, "{}"),
            correlation_id="c1",
            now_ms=NOW,
        )
        assert registered.created
        await client.script_flush()
        first = await coordinator.claim("b1", "s1", "h1", "{}", NOW)
        duplicate = await coordinator.claim("b1", "s2", "h1", "{}", NOW)
        last = await coordinator.fail("b1", "s3", "BAD", "x", NOW)
        assert (first.outcome, duplicate.outcome, last.outcome) == (
            Outcome.ASSIGNED,
            Outcome.DUPLICATE,
            Outcome.FAILED,
        )
        assert last.sealed
        status = await coordinator.status("b1")
        assert status is not None and status.state is BatchState.SEALED
        page = await coordinator.list_active_batches("alice", None, 10)
        assert [s.batch_id for s in page.batches] == ["b1"]
        location = await coordinator.lookup("b1-001")
        assert location is not None and location.batch_id == "b1"
        ticket = await coordinator.begin_finalize("b1", NOW, 1000)
        assert ticket.acquired and ticket.token is not None
        assert await coordinator.rekick_stuck(NOW + 10_000, 5000, 10) != []
        assert await coordinator.complete_finalize("b1", ticket.token, NOW)
        assert await coordinator.expire_due(NOW + 2 * HOUR_MS, 10) == []
    finally:
        await client.aclose()


def test_async_coordinator_runs_a_batch_from_registration_to_done(settings: Settings) -> None:
    asyncio.run(lifecycle(settings))
