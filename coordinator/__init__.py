"""The Redis batch coordinator: the only source of truth for live batch state.

Each coordination step is one Lua script (coordinator/scripts/); `Coordinator` runs them for
synchronous callers and `AsyncCoordinator` for asyncio callers, from one definition of every key,
argument and reply. See docs/coordinator.md.
"""

from coordinator.async_runner import AsyncCoordinator
from coordinator.clock import now_ms
from coordinator.config import CoordinatorConfig, config_from_settings
from coordinator.errors import BatchConflictError, EssayIdTakenError
from coordinator.eviction import check_eviction_policy, check_eviction_policy_async
from coordinator.fingerprint import registration_fingerprint
from coordinator.keys import KeySpace, shard_of
from coordinator.model import (
    BatchPage,
    BatchStatus,
    BatchSummary,
    ClaimResult,
    EssayLocation,
    ExpiredBatch,
    FailResult,
    FinalizeTicket,
    RegisterResult,
    SlotRecord,
    SlotResult,
    StuckBatch,
)
from coordinator.sync_runner import Coordinator
from essays.lifecycle import BatchState, Outcome

__all__ = [
    "AsyncCoordinator",
    "BatchConflictError",
    "BatchPage",
    "BatchState",
    "BatchStatus",
    "BatchSummary",
    "ClaimResult",
    "Coordinator",
    "CoordinatorConfig",
    "EssayIdTakenError",
    "EssayLocation",
    "ExpiredBatch",
    "FailResult",
    "FinalizeTicket",
    "KeySpace",
    "Outcome",
    "RegisterResult",
    "SlotRecord",
    "SlotResult",
    "StuckBatch",
    "check_eviction_policy",
    "check_eviction_policy_async",
    "config_from_settings",
    "now_ms",
    "registration_fingerprint",
    "shard_of",
]
