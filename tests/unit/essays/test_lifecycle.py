"""The lifecycles allow exactly their transition tables."""

from __future__ import annotations

import pytest

from els.errors import InvalidTransitionError
from essays.lifecycle import (
    ESSAY_TRANSITIONS,
    EssayState,
    SubmissionState,
    advance_essay,
    advance_submission,
)


def test_redelivery_into_the_current_state_changes_nothing() -> None:
    assert advance_submission(SubmissionState.PROCESSING, SubmissionState.PROCESSING) is False
    assert advance_essay(EssayState.ANALYSED, EssayState.ANALYSED) is False


def test_the_documented_path_is_allowed() -> None:
    assert advance_submission(SubmissionState.RECEIVED, SubmissionState.PROCESSING)
    assert advance_submission(SubmissionState.PROCESSING, SubmissionState.READY)
    assert advance_essay(EssayState.AWAITING, EssayState.READY)
    assert advance_essay(EssayState.READY, EssayState.ANALYSING)
    assert advance_essay(EssayState.ANALYSING, EssayState.ANALYSIS_FAILED)


def test_a_final_submission_never_changes_again() -> None:
    with pytest.raises(InvalidTransitionError) as raised:
        advance_submission(SubmissionState.EXCESS, SubmissionState.READY)
    assert raised.value.code == "INVALID_TRANSITION"
    assert raised.value.details == {"from": "excess", "to": "ready"}


@pytest.mark.parametrize("state", list(EssayState))
def test_every_essay_transition_outside_the_table_is_refused(state: EssayState) -> None:
    for target in EssayState:
        if target == state or target in ESSAY_TRANSITIONS[state]:
            continue
        with pytest.raises(InvalidTransitionError):
            advance_essay(state, target)
