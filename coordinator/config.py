"""The part of the settings the coordinator reads, fixed when a coordinator is built."""

from __future__ import annotations

from dataclasses import dataclass

from coordinator.keys import KeySpace
from els.errors import ConfigurationError
from els.settings import Settings


@dataclass(frozen=True)
class CoordinatorConfig:
    """Key naming and limits of one deployment."""

    keys: KeySpace
    retention_ms: int
    pending_ttl_ms: int
    late_grace_ms: int  # how long past its deadline a batch waits for uploads received in time
    pending_cap: int  # most claims/failures parked per unregistered batch
    max_expected_essays: int
    max_deadline_seconds: int
    expire_batches_per_call: int = 100  # bounds one expire.lua call's work (a few commands a batch)
    cluster: bool = False  # a Redis Cluster: commands that walk one server's keys do not apply
    min_replicas: int = 0  # replicas that must hold a writing step before it is acknowledged (0: none)
    replica_timeout_ms: int = 1000  # how long one step's WAIT waits for them

    def __post_init__(self) -> None:
        if self.min_replicas < 0 or self.replica_timeout_ms < 1:
            raise ConfigurationError(
                f"min_replicas must be at least 0 and replica_timeout_ms at least 1, not "
                f"{self.min_replicas} and {self.replica_timeout_ms} (WAIT 0 would wait forever)"
            )
        if self.expire_batches_per_call < 1:
            raise ConfigurationError(
                f"expire_batches_per_call must be at least 1, not {self.expire_batches_per_call}: "
                "an expiry call that may look at no batch never expires one"
            )


def config_from_settings(settings: Settings) -> CoordinatorConfig:
    """The coordinator's view of `settings`."""
    return CoordinatorConfig(
        keys=KeySpace(prefix=settings.key_prefix, shards=settings.shards),
        retention_ms=settings.retention_seconds * 1000,
        pending_ttl_ms=settings.pending_ttl_seconds * 1000,
        late_grace_ms=settings.late_grace_seconds * 1000,
        # Room for every slot plus as many duplicate uploads; redeliveries are not counted twice.
        pending_cap=2 * settings.max_expected_essays,
        max_expected_essays=settings.max_expected_essays,
        max_deadline_seconds=settings.max_deadline_seconds,
        expire_batches_per_call=settings.expire_batches_per_call,
        cluster=settings.redis_cluster,
        min_replicas=settings.redis_min_replicas,
        replica_timeout_ms=settings.redis_replica_timeout_ms,
    )
