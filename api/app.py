"""The HTTP API: `create_app(settings)` builds the app; its lifespan builds the runtime and closes it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api import archives, batches, essays, metrics, ops, submissions, ui, webhooks
from api.errors import install_error_handlers
from api.metrics import GaugeRefresher, HttpMetrics
from api.middleware import RequestGuard
from bootstrap import build_runtime
from els.settings import Settings
from services.health import warn_if_redis_may_evict

API_VERSION = "1.0.0"


def create_app(settings: Settings) -> FastAPI:
    """The ELS HTTP API for `settings`; the runtime is built when the lifespan starts and closed after."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = build_runtime(settings)
        await anyio.to_thread.run_sync(warn_if_redis_may_evict, runtime)
        app.state.els = runtime
        refresher = GaugeRefresher(runtime, settings.metrics_refresh_seconds)
        refresher.start()
        try:
            yield
        finally:
            refresher.stop()
            runtime.close()

    app = FastAPI(
        title="ELS — Essay Lifecycle Service",
        version=API_VERSION,
        description="Register batches of essays, upload them, follow their progress and fetch reports.",
        lifespan=lifespan,
        # The OpenAPI document and its pages only where ELS_API_DOCS says so.
        openapi_url="/openapi.json" if settings.api_docs else None,
        docs_url="/docs" if settings.api_docs else None,
        redoc_url="/redoc" if settings.api_docs else None,
    )
    app.add_middleware(RequestGuard, max_request_bytes=settings.max_request_bytes)
    if settings.cors_origins:
        # Off unless ELS_CORS_ORIGINS names origins; bearer tokens travel in a header, never a cookie.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Correlation-ID"],
            expose_headers=["Location", "Retry-After", "X-Correlation-ID"],
        )
    app.add_middleware(HttpMetrics)  # added last, so outermost: counts what the guard and CORS answer too
    install_error_handlers(app)
    app.include_router(batches.router)
    app.include_router(archives.router)
    app.include_router(essays.router)
    app.include_router(submissions.router)
    app.include_router(ops.router)
    app.include_router(webhooks.router)
    app.include_router(ui.router)
    app.include_router(metrics.router)
    return app
