"""Whether the dependencies answer, and the backlog figures operators watch."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from coordinator.clock import now_ms
from db.migrate import schema_problem
from db.outbox import count_unpublished
from db.session import unit_of_work
from els.errors import NotReadyError
from services.runtime import Runtime

log = logging.getLogger(__name__)


def ping_redis(runtime: Runtime) -> None:
    """Reach Redis, or raise."""
    runtime.coordinator.ping()


def ping_database(runtime: Runtime) -> None:
    """Run one query on the database, or raise."""
    with runtime.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def check_schema(runtime: Runtime) -> None:
    """Raise NotReadyError unless the database is migrated to the code's head."""
    problem = schema_problem(runtime.engine)
    if problem is not None:
        raise NotReadyError(problem)


def check_eviction(runtime: Runtime) -> None:
    """Raise NotReadyError when Redis runs an evicting policy (a server that won't say is let through)."""
    warning = runtime.coordinator.evicting_policy()
    if warning is not None:
        raise NotReadyError(warning)


def ping_broker(runtime: Runtime) -> None:
    """Reach the broker, or raise."""
    runtime.dispatcher.ping()


def outbox_backlog(runtime: Runtime) -> int:
    """Outbox events waiting to be published."""
    with unit_of_work(runtime.engine, read_only=True) as session:
        return count_unpublished(session)


@dataclass(frozen=True)
class Backlog:
    """The figures the operations gauges show, counted at one moment."""

    open_batches: int
    overdue_batches: int  # OPEN past deadline and late grace: the sweep is not running
    oldest_unfinished_age_seconds: float  # the oldest batch not DONE (0 when there is none)
    finishing_batches: int  # closed, not DONE yet
    stuck_batches: int  # closed, not DONE, and due a re-kick
    parked_arrivals: int  # claims waiting for their batch to register
    outbox_events: int


def backlog(runtime: Runtime) -> Backlog:
    """Count the backlog in Redis and SQL; NotReadyError when either is down."""
    now = now_ms()
    try:
        live = runtime.coordinator.live_figures(None, runtime.settings.stuck_after_seconds * 1000)
        outbox = outbox_backlog(runtime)
    except (RedisError, SQLAlchemyError, OSError) as error:
        raise NotReadyError(f"backlog not counted: {type(error).__name__}: {error}") from error
    oldest = live.oldest_created_ms
    return Backlog(
        open_batches=live.open_batches,
        overdue_batches=live.overdue_batches,
        oldest_unfinished_age_seconds=0.0 if oldest is None else max(0, now - oldest) / 1000,
        finishing_batches=live.finishing_batches,
        stuck_batches=live.stuck_batches,
        parked_arrivals=live.parked_arrivals,
        outbox_events=outbox,
    )


def warn_if_redis_may_evict(runtime: Runtime) -> None:
    """Log loudly when Redis could evict live batch state (checked at start-up)."""
    try:
        warning = runtime.coordinator.eviction_warning()
    except RedisError as error:
        log.warning("could not check Redis's eviction policy: %s", error)
        return
    if warning:
        log.error("REDIS MAY EVICT LIVE BATCH STATE: %s", warning)
