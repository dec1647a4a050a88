"""Operations endpoints: liveness, readiness and Prometheus metrics (with gauges read at scrape time)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread
from celery import Celery
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Gauge, generate_latest
from redis.exceptions import RedisError
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from api.schemas import Health
from api.state import ApiState, api_state
from coordinator import BatchState
from db.outbox import count_unpublished
from db.session import unit_of_work

T = TypeVar("T")
logger = logging.getLogger(__name__)
router = APIRouter(tags=["operations"])

CHECK_TIMEOUT_SECONDS = 3.0
_PAGE = 500

OPEN_BATCHES = Gauge("els_open_batches", "Batches OPEN in the coordinator's index, counted at scrape time.")
OUTBOX_BACKLOG = Gauge("els_outbox_backlog", "Outbox events waiting to be published, counted at scrape time.")


@router.get("/healthz")
async def healthz() -> Health:
    """The process is up and serving."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
async def readyz(request: Request) -> JSONResponse:
    """Redis, the database and the broker all answer; 503 naming the ones that do not."""
    state = api_state(request)
    checks = {
        "redis": await _check_redis(state),
        "database": await _check_in_thread(_ping_database, state.engine),
        "broker": await _check_in_thread(_ping_broker, state.celery),
    }
    ready = all(answer == "ok" for answer in checks.values())
    body = Health(status="ready" if ready else "not_ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get("/metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Prometheus exposition of every ELS metric, with the scrape-time gauges refreshed first."""
    state = api_state(request)
    try:
        OPEN_BATCHES.set(await _count_open_batches(state))
        OUTBOX_BACKLOG.set(await anyio.to_thread.run_sync(_outbox_backlog, state.engine))
    except (RedisError, SQLAlchemyError, OSError) as error:
        # A scrape still answers with what it has; the stale gauges are better than no metrics.
        logger.warning("scrape-time gauges not refreshed: %s", error)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


async def _count_open_batches(state: ApiState) -> int:
    count, cursor = 0, None
    while True:
        page = await anyio.to_thread.run_sync(
            state.intake.coordinator.list_active_batches, None, cursor, _PAGE
        )
        count += sum(1 for line in page.batches if line.state is BatchState.OPEN)
        cursor = page.next_cursor
        if cursor is None:
            return count


async def _check_redis(state: ApiState) -> str:
    try:
        with anyio.fail_after(CHECK_TIMEOUT_SECONDS):
            await anyio.to_thread.run_sync(state.intake.coordinator.ping, abandon_on_cancel=True)
    except (RedisError, OSError, TimeoutError) as error:
        return f"unreachable: {type(error).__name__}"
    return "ok"


async def _check_in_thread(check: Callable[[T], None], target: T) -> str:
    try:
        with anyio.fail_after(CHECK_TIMEOUT_SECONDS):
            await anyio.to_thread.run_sync(check, target, abandon_on_cancel=True)
    except Exception as error:  # noqa: BLE001 - any failure to answer means not ready
        return f"unreachable: {type(error).__name__}"
    return "ok"


def _ping_database(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _ping_broker(celery: Celery) -> None:
    with celery.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=int(CHECK_TIMEOUT_SECONDS))


def _outbox_backlog(engine: Engine) -> int:
    with unit_of_work(engine, read_only=True) as session:
        return count_unpublished(session)
