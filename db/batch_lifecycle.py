"""The batch states SQL mirrors from the coordinator: open -> sealed | expired -> done.

The coordinator decides each step exactly once; this table refuses a record that contradicts it
(a batch closed twice in different ways, a report for an open batch) instead of applying it.
"""

from __future__ import annotations

from enum import StrEnum

from els.errors import InvalidTransitionError


class BatchState(StrEnum):
    """Where a batch is, as far as SQL knows."""

    OPEN = "open"
    SEALED = "sealed"
    EXPIRED = "expired"
    DONE = "done"


BATCH_TRANSITIONS: dict[BatchState, frozenset[BatchState]] = {
    BatchState.OPEN: frozenset({BatchState.SEALED, BatchState.EXPIRED}),
    BatchState.SEALED: frozenset({BatchState.DONE}),
    BatchState.EXPIRED: frozenset({BatchState.DONE}),
    BatchState.DONE: frozenset(),
}


def advance_batch(current: BatchState, target: BatchState) -> bool:
    """True when `current` -> `target` changes state, False when it is already there; else raises."""
    if current == target:
        return False
    if target in BATCH_TRANSITIONS[current]:
        return True
    raise InvalidTransitionError(
        f"a batch cannot go from {current.value} to {target.value}",
        details={"from": current.value, "to": target.value},
    )
