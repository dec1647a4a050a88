"""The coordinator's single commands that are not scripts: debounces, the sweep's lock and heartbeat, the
completion turn, the replicas' confirmation and health reads, so nothing outside coordinator/ touches
the Redis client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

from redis.exceptions import LockNotOwnedError
from redis.lock import Lock

from coordinator import narrow
from coordinator import validation as check
from coordinator.eviction import check_eviction_policy, evicting_policy
from coordinator.runner import ScriptRunner


class PlainCommands(ScriptRunner):
    """One Redis command each (SET NX PX, GET, EXISTS, PING, WAIT, a lock), none of them a lifecycle step."""

    def request_once(self, name: str, ttl_ms: int) -> bool:
        """`SET <prefix>:<name> 1 NX PX ttl_ms`: True for the one caller that set it within the ttl."""
        check.check_id("name", name)
        check.check_positive("ttl_ms", ttl_ms)
        reply: object = self.client.set(f"{self.config.keys.prefix}:{name}", b"1", nx=True, px=ttl_ms)
        return reply is True

    def record_sweep(self, now_ms: int, ttl_ms: int) -> None:
        """`SET <prefix>:sweep-heartbeat <now_ms> PX ttl_ms`: a sweep ran at now_ms (beat is ticking)."""
        check.check_positive("ttl_ms", ttl_ms)
        self.client.set(f"{self.config.keys.prefix}:sweep-heartbeat", str(now_ms), px=ttl_ms)

    def last_sweep_ms(self) -> int | None:
        """When a sweep last ran (epoch ms), from its heartbeat; None when none ran within the ttl."""
        reply: object = self.client.get(f"{self.config.keys.prefix}:sweep-heartbeat")
        stamp = narrow.optional_text(reply)
        return None if stamp is None else narrow.integer(stamp)

    @contextmanager
    def sweep_lock(self, timeout_seconds: float) -> Iterator[bool]:
        """The non-blocking lock `<prefix>:sweep-lock`: yields whether this caller holds it.

        Released on exit. The lock only saves duplicate work (every sweep step is safe to run twice), so
        a lock that expired or was taken over meanwhile is not an error.
        """
        lock = Lock(self.client, f"{self.config.keys.prefix}:sweep-lock", timeout=timeout_seconds)
        acquired: bool = lock.acquire(blocking=False)
        try:
            yield acquired
        finally:
            if acquired:
                with suppress(LockNotOwnedError):
                    lock.release()

    def take_completion_turn(self, batch_id: str, hold_ms: int) -> bool:
        """Whether this caller may dispatch the batch's analyses now (one SET NX PX, atomic).

        A sealed batch is told "closed" by every replayed claim, and each would queue the whole
        batch's analyses again; the first caller in each `hold_ms` takes the turn, the rest stand aside.
        A lost dispatch is re-kicked by the sweep after `stuck_after`, by when the turn has lapsed.
        """
        check.check_id("batch_id", batch_id)
        reply: object = self.client.set(
            self.config.keys.batch(batch_id).completion_turn, b"1", nx=True, px=max(hold_ms, 1)
        )
        return reply is True

    def confirm_replicated(self, batch_id: str) -> None:
        """Return once every write the primary of the batch's shard holds is on `min_replicas` replicas
        (at once with none required), else NotReplicatedError: for a caller about to act on a read
        (`progress`, `status`) that may show a step Redis has not acknowledged yet."""
        check.check_id("batch_id", batch_id)
        self._confirm(self.config.keys.batch(batch_id).hash)

    def knows(self, batch_id: str) -> bool:
        """Whether Redis holds the batch at all (one EXISTS): a read, never a step of the lifecycle."""
        check.check_id("batch_id", batch_id)
        reply: object = self.client.exists(self.config.keys.batch(batch_id).hash)
        return reply == 1

    def ping(self) -> None:
        """One PING; raises redis-py's errors when Redis does not answer."""
        self.client.ping()

    def eviction_warning(self) -> str | None:
        """A warning when Redis may evict the coordinator's keys (or will not say), None on noeviction."""
        return check_eviction_policy(self.client)

    def evicting_policy(self) -> str | None:
        """A warning when Redis is known to evict (a policy other than noeviction); None when it won't say."""
        return evicting_policy(self.client)
