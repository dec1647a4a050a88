"""Operations endpoints: liveness and readiness (Prometheus metrics are in api/metrics.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import anyio
import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.schemas import Health
from api.state import runtime_of
from els.errors import NotReadyError
from services import health
from services.runtime import Runtime

logger = logging.getLogger(__name__)
router = APIRouter(tags=["operations"])

CHECK_TIMEOUT_SECONDS = 3.0


@router.get("/healthz", operation_id="healthz")
async def healthz() -> Health:
    """The process is up and serving."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}}, operation_id="readyz")
async def readyz(request: Request) -> JSONResponse:
    """Redis, the database and the broker answer, the schema is at the head and Redis will not evict.

    503 names each check that failed, with its reason.
    """
    runtime = runtime_of(request)
    checks = {
        "redis": await _answers(health.ping_redis, runtime),
        "database": await _answers(health.ping_database, runtime),
        "broker": await _answers(health.ping_broker, runtime),
    }
    # What only matters once the dependency answers: the schema's revision and Redis's eviction policy.
    if checks["database"] == "ok":
        checks["schema"] = await _answers(health.check_schema, runtime)
    if checks["redis"] == "ok":
        checks["redis_eviction"] = await _answers(health.check_eviction, runtime)
    ready = all(answer == "ok" for answer in checks.values())
    body = Health(status="ready" if ready else "not_ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


async def _answers(check: Callable[[Runtime], None], runtime: Runtime) -> str:
    try:
        with anyio.fail_after(CHECK_TIMEOUT_SECONDS):
            await anyio.to_thread.run_sync(check, runtime, abandon_on_cancel=True)
    except NotReadyError as error:
        return f"not ready: {error.message}"
    except Exception as error:  # noqa: BLE001 - any failure to answer means not ready
        return f"unreachable: {type(error).__name__}"
    return "ok"
