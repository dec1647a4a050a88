"""Whether the dependencies answer, and the backlog figures operators watch."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from db.migrate import schema_problem
from db.outbox import count_unpublished
from db.session import unit_of_work
from els.errors import NotReadyError
from services.queries import count_open_batches
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
    """The figures the scrape-time gauges show."""

    open_batches: int
    outbox_events: int


def backlog(runtime: Runtime) -> Backlog:
    """Batches still OPEN and outbox events not yet published; NotReadyError when Redis or SQL is down."""
    try:
        return Backlog(open_batches=count_open_batches(runtime), outbox_events=outbox_backlog(runtime))
    except (RedisError, SQLAlchemyError, OSError) as error:
        raise NotReadyError(f"backlog not counted: {type(error).__name__}: {error}") from error


def warn_if_redis_may_evict(runtime: Runtime) -> None:
    """Log loudly when Redis could evict live batch state (checked at start-up)."""
    try:
        warning = runtime.coordinator.eviction_warning()
    except RedisError as error:
        log.warning("could not check Redis's eviction policy: %s", error)
        return
    if warning:
        log.error("REDIS MAY EVICT LIVE BATCH STATE: %s", warning)
