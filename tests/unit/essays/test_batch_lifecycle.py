"""A batch moves one way only: open, then sealed or expired, then (finalizing and) done."""

from __future__ import annotations

import pytest

from els.errors import InvalidTransitionError
from essays.lifecycle import BATCH_TRANSITIONS, BatchState, advance_batch


def test_a_batch_closes_then_finishes() -> None:
    assert advance_batch(BatchState.OPEN, BatchState.SEALED)
    assert advance_batch(BatchState.OPEN, BatchState.EXPIRED)
    assert advance_batch(BatchState.SEALED, BatchState.DONE)
    assert advance_batch(BatchState.EXPIRED, BatchState.DONE)


def test_redelivery_into_the_current_state_changes_nothing() -> None:
    for state in BatchState:
        assert advance_batch(state, state) is False


def test_every_transition_outside_the_table_is_refused() -> None:
    for current in BatchState:
        for target in BatchState:
            if target == current or target in BATCH_TRANSITIONS[current]:
                continue
            with pytest.raises(InvalidTransitionError):
                advance_batch(current, target)
