"""Which scripts wait for replicas, and the settings that say how many and how long."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from coordinator import CoordinatorConfig, config_from_settings
from coordinator.keys import KeySpace
from coordinator.lua import STEPS, ScriptName
from els.errors import ConfigurationError, NotReadyError, NotReplicatedError
from els.settings import Settings
from tasks.retry import TRANSIENT


def test_every_script_but_the_reads_is_a_step() -> None:
    reads = {ScriptName.STATUS, ScriptName.SLOTS, ScriptName.GATE, ScriptName.GAUGES, ScriptName.LIST}
    assert set(ScriptName) - STEPS == reads


def test_the_settings_reach_the_coordinator_and_wait_for_no_replica_by_default() -> None:
    assert (Settings().redis_min_replicas, Settings().redis_replica_timeout_ms) == (0, 1000)
    config = config_from_settings(Settings(redis_min_replicas=1, redis_replica_timeout_ms=250))
    assert (config.min_replicas, config.replica_timeout_ms) == (1, 250)


def test_a_wait_that_could_block_forever_or_outlast_the_socket_is_refused() -> None:
    for bad in (
        {"redis_min_replicas": -1},
        {"redis_replica_timeout_ms": 0},
        {"redis_replica_timeout_ms": 5000},
    ):
        with pytest.raises(ValidationError):
            Settings.model_validate(bad)
    with pytest.raises(ConfigurationError):
        CoordinatorConfig(
            keys=KeySpace("els", 16),
            retention_ms=1,
            pending_ttl_ms=1,
            late_grace_ms=0,
            pending_cap=1,
            max_expected_essays=1,
            max_deadline_seconds=1,
            min_replicas=1,
            replica_timeout_ms=0,
        )


def test_a_step_its_replicas_did_not_confirm_is_an_outage_tasks_retry() -> None:
    error = NotReplicatedError("not yet", details={"dependency": "redis", "replicas": 0, "required": 1})
    assert isinstance(error, NotReadyError) and isinstance(error, TRANSIENT)
    assert error.code == "NOT_REPLICATED"
