"""`AsyncCoordinator`: the batch coordinator for asyncio callers (the HTTP API), on redis.asyncio.

It only executes what the plans in plans_batch.py and plans_sweep.py ask for; every rule lives in the
Lua scripts and every key, argument and reply shape in the plans.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias, TypeVar

import redis.asyncio
from redis.asyncio.cluster import RedisCluster
from redis.commands.core import AsyncScript

from coordinator import plans_batch, plans_sweep
from coordinator.calls import Done, GetCall, Plan, ScriptCall, ScriptName
from coordinator.config import CoordinatorConfig, config_from_settings
from coordinator.lua import script_source
from coordinator.model import (
    BatchPage,
    BatchStatus,
    EssayLocation,
    ExpiredBatch,
    FinalizeTicket,
    RegisterResult,
    SlotResult,
    StuckBatch,
)
from els.settings import Settings

T = TypeVar("T")
AsyncClient: TypeAlias = redis.asyncio.Redis | RedisCluster


class AsyncCoordinator:
    """Live batch state in Redis: register, claim, fail, expire, finalize, status, list, lookup."""

    def __init__(self, client: AsyncClient, config: CoordinatorConfig) -> None:
        self.client = client
        self.config = config
        # register_script re-sends the source whenever the server answers NOSCRIPT.
        self._scripts: dict[ScriptName, AsyncScript] = {
            name: client.register_script(script_source(name)) for name in ScriptName
        }

    @classmethod
    def from_settings(cls, settings: Settings, client: AsyncClient) -> AsyncCoordinator:
        """A coordinator for the deployment `settings` describe, on `client`."""
        return cls(client, config_from_settings(settings))

    async def _execute(self, call: ScriptCall | GetCall) -> object:
        if isinstance(call, ScriptCall):
            reply: object = await self._scripts[call.script](keys=call.keys, args=call.args)
            return reply
        pipeline = self.client.pipeline(transaction=False)
        for key in call.keys:
            pipeline.get(key)
        replies: object = await pipeline.execute()
        return replies

    async def _drive(self, plan: Plan[T]) -> T:
        step = next(plan)
        while not isinstance(step, Done):
            step = plan.send(await self._execute(step))
        return step.value

    async def register(
        self,
        batch_id: str,
        owner: str,
        *,
        essay_ids: Sequence[str] | None = None,
        expected_count: int | None = None,
        deadline_ms: int,
        fingerprint: str,
        correlation_id: str,
        metadata_json: str = "{}",
        now_ms: int,
    ) -> RegisterResult:
        """Create a batch OPEN with its slots (explicit ids or a count), or replay the same registration.

        Raises BatchConflictError for the same id with another fingerprint, EssayIdTakenError when an
        explicit essay id is live in another batch of the shard.
        """
        return await self._drive(
            plans_batch.register(
                self.config,
                batch_id,
                owner,
                essay_ids=essay_ids,
                expected_count=expected_count,
                deadline_ms=deadline_ms,
                fingerprint=fingerprint,
                correlation_id=correlation_id,
                metadata_json=metadata_json,
                now_ms=now_ms,
            )
        )

    async def claim(
        self, batch_id: str, submission_id: str, content_hash: str, payload_json: str, now_ms: int
    ) -> SlotResult:
        """Give a processed submission the next slot, or tell it why not (duplicate, excess, pending)."""
        return await self._drive(
            plans_batch.claim(self.config, batch_id, submission_id, content_hash, payload_json, now_ms=now_ms)
        )

    async def fail(
        self, batch_id: str, submission_id: str, code: str, detail: str, now_ms: int
    ) -> SlotResult:
        """Record a final failure; it consumes the next slot so the batch still completes."""
        return await self._drive(
            plans_batch.fail(self.config, batch_id, submission_id, code, detail, now_ms=now_ms)
        )

    async def expire_due(self, now_ms: int, limit: int) -> list[ExpiredBatch]:
        """Expire at most `limit` OPEN batches whose deadline has passed; each is returned once, ever."""
        return await self._drive(plans_sweep.expire_due(self.config, now_ms, limit))

    async def begin_finalize(self, batch_id: str, now_ms: int, lease_ms: int) -> FinalizeTicket:
        """Acquire the right to finalize a sealed or expired batch (or take over an expired lease)."""
        return await self._drive(plans_batch.begin_finalize(self.config, batch_id, now_ms, lease_ms))

    async def complete_finalize(self, batch_id: str, token: str, now_ms: int) -> bool:
        """Mark the batch DONE if `token` is current; True only for the call that did it."""
        return await self._drive(plans_batch.complete_finalize(self.config, batch_id, token, now_ms))

    async def rekick_stuck(self, now_ms: int, older_than_ms: int, limit: int) -> list[StuckBatch]:
        """Batches sealed, expired or finalizing for longer than `older_than_ms`, each once per period."""
        return await self._drive(plans_sweep.rekick_stuck(self.config, now_ms, older_than_ms, limit))

    async def status(self, batch_id: str) -> BatchStatus | None:
        """Everything live about a batch in one round trip, or None."""
        return await self._drive(plans_batch.status(self.config, batch_id))

    async def list_active_batches(self, owner: str | None, cursor: str | None, limit: int) -> BatchPage:
        """A page of not-DONE batches, all or one owner's; pass the page's `next_cursor` to continue."""
        return await self._drive(plans_sweep.list_active_batches(self.config, owner, cursor, limit))

    async def lookup(self, essay_id: str, owner: str | None = None) -> EssayLocation | None:
        """The batch (and owner) an essay id belongs to, in a fixed number of GETs."""
        return await self._drive(plans_sweep.lookup(self.config, essay_id, owner))
