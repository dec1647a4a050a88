"""The sweep's heartbeat and `els beat-alive`, beat's healthcheck: against the real Redis."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import redis

from coordinator import now_ms
from services.runtime import Runtime
from services.sweep import heartbeat_ttl_ms, sweep, sweep_age_seconds


def test_every_sweep_stamps_a_heartbeat_with_a_ttl(
    runtime: Runtime, redis_client: redis.Redis, key_prefix: str
) -> None:
    assert runtime.coordinator.last_sweep_ms() is None
    assert sweep_age_seconds(runtime) is None
    at = now_ms()
    sweep(runtime, at)
    assert runtime.coordinator.last_sweep_ms() == at
    ttl = redis_client.pttl(f"{key_prefix}:sweep-heartbeat")
    assert 0 < ttl <= heartbeat_ttl_ms(runtime.settings.sweep_interval_seconds)
    assert sweep_age_seconds(runtime, at + 4_500) == 4.5


def test_a_sweep_that_finds_the_lock_taken_still_stamps_the_heartbeat(runtime: Runtime) -> None:
    with runtime.coordinator.sweep_lock(10.0) as held:
        assert held
        at = now_ms()
        assert not sweep(runtime, at).ran
    assert runtime.coordinator.last_sweep_ms() == at


def test_the_heartbeat_outlives_several_intervals_and_ten_minutes() -> None:
    assert heartbeat_ttl_ms(30.0) == 600_000
    assert heartbeat_ttl_ms(120.0) == 1_200_000


def beat_alive(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "cli", "beat-alive", *args]
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_beat_alive_fails_without_a_recent_sweep_and_passes_after_one(
    runtime: Runtime, redis_url: str, key_prefix: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "ELS_REDIS_URL": redis_url,
        "ELS_KEY_PREFIX": key_prefix,
        "ELS_DATABASE_URL": f"sqlite:///{tmp_path / 'els.db'}",
    }
    never = beat_alive(env, tmp_path)
    assert never.returncode == 1
    assert "no sweep ran lately" in never.stderr
    assert "-control queue" in never.stderr
    runtime.coordinator.record_sweep(now_ms() - 120_000, 600_000)  # two minutes ago
    stale = beat_alive(env, tmp_path)
    assert stale.returncode == 1
    assert stale.stderr.startswith("the last sweep ran ")
    assert "s ago (more than 90 s)" in stale.stderr
    assert beat_alive(env, tmp_path, "--max-age", "600").returncode == 0
    sweep(runtime)
    fresh = beat_alive(env, tmp_path)
    assert fresh.returncode == 0, fresh.stderr
    assert "the last sweep ran" in fresh.stdout
