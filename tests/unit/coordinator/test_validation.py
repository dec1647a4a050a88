"""Ids, counts and sizes are checked before any Redis call: the client here points at nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
import redis

from coordinator import Coordinator
from coordinator.config import config_from_settings
from els.errors import ConfigurationError, InvalidInputError
from els.settings import Settings

NOW = 1_800_000_000_000
FINGERPRINT = "0" * 64


@pytest.fixture
def offline() -> Coordinator:
    """A coordinator whose client would fail on any round trip (nothing listens on port 1)."""
    return Coordinator.from_settings(Settings(max_expected_essays=10), redis.Redis(port=1))


@pytest.mark.parametrize("bad", ["", "a" * 65, "a:b", "a*", "{s01}", "a}b", "a/b", "a b", "é"])
def test_ids_outside_the_charset_or_length_are_refused(offline: Coordinator, bad: str) -> None:
    calls: list[Callable[[], object]] = [
        lambda: offline.claim(bad, "s", "h", NOW),
        lambda: offline.claim("b", bad, "h", NOW),
        lambda: offline.fail("b", "s", bad, "detail", NOW),
        lambda: offline.status(bad),
        lambda: offline.slot_page(bad, None, 10),
        lambda: offline.begin_finalize(bad, NOW, 1000),
        lambda: offline.list_active_batches(bad, None, 10),
        lambda: register(offline, batch_id=bad),
        lambda: register(offline, owner=bad),
        lambda: register(offline, essay_ids=["ok", bad]),
    ]
    for call in calls:
        with pytest.raises(InvalidInputError):
            call()


def register(
    coordinator: Coordinator,
    *,
    batch_id: str = "b1",
    owner: str = "alice",
    essay_ids: list[str] | None = None,
    count: int | None = None,
    deadline_ms: int = NOW + 60_000,
    metadata_json: str = "{}",
) -> object:
    return coordinator.register(
        batch_id,
        owner,
        essay_ids=essay_ids,
        expected_count=count if essay_ids is None and count is not None else (None if essay_ids else 2),
        deadline_ms=deadline_ms,
        fingerprint=FINGERPRINT,
        correlation_id="c1",
        metadata_json=metadata_json,
        now_ms=NOW,
    )


def test_counts_outside_one_to_the_maximum_are_refused(offline: Coordinator) -> None:
    for count in (0, -1, 11):
        with pytest.raises(InvalidInputError):
            register(offline, count=count)
    with pytest.raises(InvalidInputError):
        register(offline, essay_ids=[f"e{n}" for n in range(11)])


def test_repeated_essay_ids_are_refused(offline: Coordinator) -> None:
    with pytest.raises(InvalidInputError):
        register(offline, essay_ids=["e1", "e2", "e1"])


def test_both_or_neither_of_ids_and_count_is_refused(offline: Coordinator) -> None:
    with pytest.raises(InvalidInputError):
        offline.register(
            "b1",
            "alice",
            essay_ids=["e1"],
            expected_count=1,
            deadline_ms=NOW + 1,
            fingerprint=FINGERPRINT,
            correlation_id="c",
            now_ms=NOW,
        )
    with pytest.raises(InvalidInputError):
        offline.register(
            "b1", "alice", deadline_ms=NOW + 1, fingerprint=FINGERPRINT, correlation_id="c", now_ms=NOW
        )


def test_deadlines_in_the_past_or_too_far_ahead_are_refused(offline: Coordinator) -> None:
    for deadline in (NOW, NOW - 1, NOW + (30 * 86400 + 1) * 1000):
        with pytest.raises(InvalidInputError):
            register(offline, deadline_ms=deadline)


def test_generated_essay_ids_must_fit_the_id_length(offline: Coordinator) -> None:
    with pytest.raises(InvalidInputError):
        register(offline, batch_id="b" * 62, count=2)


def test_metadata_must_be_json_and_the_content_hash_plain(offline: Coordinator) -> None:
    with pytest.raises(InvalidInputError):
        register(offline, metadata_json="{not json")
    with pytest.raises(InvalidInputError):
        offline.claim("b1", "s1", "h|1", NOW)


def test_malformed_fingerprints_and_limits_are_refused(offline: Coordinator) -> None:
    with pytest.raises(InvalidInputError):
        offline.register(
            "b1",
            "alice",
            expected_count=1,
            deadline_ms=NOW + 1,
            fingerprint="XYZ",
            correlation_id="c",
            now_ms=NOW,
        )
    for call in (
        lambda: offline.expire_due(NOW, 0),
        lambda: offline.rekick_stuck(NOW, 1000, 0),
        lambda: offline.rekick_stuck(NOW, -1, 10),
        lambda: offline.list_active_batches(None, None, 0),
        lambda: offline.begin_finalize("b1", NOW, 0),
    ):
        with pytest.raises(InvalidInputError):
            call()


def test_an_expiry_call_that_may_look_at_no_batch_is_refused_when_the_coordinator_is_built() -> None:
    # A cap of 0 would let every expiry call expire nothing, and the sweep would call it forever.
    with pytest.raises(ConfigurationError, match="expire_batches_per_call"):
        replace(config_from_settings(Settings()), expire_batches_per_call=0)
