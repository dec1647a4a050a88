"""The composition root of the HTTP API: `create_app(settings)` builds the app, its lifespan the clients."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
import redis
from fastapi import FastAPI

from api import batches, essays, ops
from api.errors import install_error_handlers
from api.middleware import RequestGuard
from api.state import ApiState
from coordinator import Coordinator
from db.engine import create_db_engine
from els.intake import Intake
from els.runtime import redis_client
from els.settings import Settings
from tasks.enqueue import enqueue_registration_followup, enqueue_submission, through
from worker.app import create_app as create_celery_app

API_VERSION = "1.0.0"

log = logging.getLogger(__name__)


async def warn_if_redis_may_evict(coordinator: Coordinator) -> None:
    """Log loudly at start-up when Redis could evict live batch state; /readyz reports reachability."""
    try:
        warning = await anyio.to_thread.run_sync(coordinator.eviction_warning)
    except redis.RedisError as error:
        log.warning("could not check Redis's eviction policy at start-up: %s", error)
        return
    if warning:
        log.error("REDIS MAY EVICT LIVE BATCH STATE: %s", warning)


def create_app(settings: Settings) -> FastAPI:
    """The ELS HTTP API for `settings`; clients are built when the lifespan starts and closed after."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The sync coordinator, called from FastAPI's thread pool: no asyncio Redis client is kept.
        client = redis_client(settings)
        engine = create_db_engine(settings.database_url)
        celery = create_celery_app(settings)
        coordinator = Coordinator.from_settings(settings, client)
        await warn_if_redis_may_evict(coordinator)
        app.state.els = ApiState(
            settings=settings,
            engine=engine,
            celery=celery,
            intake=Intake(
                settings=settings,
                engine=engine,
                coordinator=coordinator,
                enqueue_submission=through(celery, enqueue_submission),
                enqueue_registration_followup=through(celery, enqueue_registration_followup),
            ),
        )
        try:
            yield
        finally:
            client.close()
            engine.dispose()

    app = FastAPI(
        title="ELS — Essay Lifecycle Service",
        version=API_VERSION,
        description="Register batches of essays, upload them, follow their progress and fetch reports.",
        lifespan=lifespan,
    )
    app.add_middleware(RequestGuard, max_request_bytes=settings.max_request_bytes)
    install_error_handlers(app)
    app.include_router(batches.router)
    app.include_router(essays.router)
    app.include_router(ops.router)
    return app
