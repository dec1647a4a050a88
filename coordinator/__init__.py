"""The Redis batch coordinator: the only source of truth for live batch state.

Each coordination step is one Lua script (coordinator/scripts/), run by one method of the synchronous
`Coordinator` (coordinator/coordinator.py). The HTTP API calls it from FastAPI's thread pool, so there is
no asyncio client. See docs/coordinator.md.
"""

from coordinator.clock import now_ms
from coordinator.config import CoordinatorConfig, config_from_settings
from coordinator.coordinator import Coordinator, generated_essay_ids
from coordinator.fingerprint import registration_fingerprint
from coordinator.model import (
    BatchPage,
    BatchProgress,
    BatchStatus,
    BatchSummary,
    EndResult,
    ExpiredBatch,
    FinalizeTicket,
    ReceiveResult,
    RegisterResult,
    SlotLine,
    SlotPage,
    SlotRecord,
    SlotResult,
    StuckBatch,
)
from els.errors import BatchConflictError, EssayIdTakenError
from essays.lifecycle import BatchState, Outcome

__all__ = [
    "BatchConflictError",
    "BatchPage",
    "BatchProgress",
    "BatchState",
    "BatchStatus",
    "BatchSummary",
    "Coordinator",
    "CoordinatorConfig",
    "EndResult",
    "EssayIdTakenError",
    "ExpiredBatch",
    "FinalizeTicket",
    "Outcome",
    "ReceiveResult",
    "RegisterResult",
    "SlotLine",
    "SlotPage",
    "SlotRecord",
    "SlotResult",
    "StuckBatch",
    "config_from_settings",
    "generated_essay_ids",
    "now_ms",
    "registration_fingerprint",
]
