"""`/metrics` for Prometheus: the API's own HTTP metrics and the backlog gauges, behind a bearer token.

The API exports its own registry only. Essay, claim and batch counters are counted where the work runs,
and the workers serve them (worker/multiprocess.py). A scrape does no Redis or SQL work at all: a thread
of the API recounts the backlog gauges every `ELS_METRICS_REFRESH_SECONDS`, and the scrape only renders
the registry. Without `ELS_METRICS_TOKEN_SHA256` the route answers 404, as if it did not exist.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import threading
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import CLIENT_CLOSED_REQUEST
from api.state import runtime_of
from els.errors import ElsError, NotFoundError, UnauthorizedError
from services import health, limits
from services.runtime import Runtime

logger = logging.getLogger(__name__)
router = APIRouter(tags=["operations"])
_bearer = HTTPBearer(auto_error=False, description="The token whose sha256 is ELS_METRICS_TOKEN_SHA256.")

REGISTRY = CollectorRegistry()

HTTP_REQUESTS = Counter(
    "els_http_requests_total",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "els_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
OPEN_BATCHES = Gauge(
    "els_open_batches", "Batches OPEN in the coordinator, counted in the background.", registry=REGISTRY
)
OVERDUE_BATCHES = Gauge(
    "els_overdue_open_batches",
    "Batches still OPEN past their deadline and the late grace: the sweep (beat) is not expiring them.",
    registry=REGISTRY,
)
OLDEST_UNFINISHED = Gauge(
    "els_oldest_unfinished_batch_age_seconds",
    "Age of the oldest batch not DONE yet, open or finishing (0 when there is none).",
    registry=REGISTRY,
)
FINISHING_BATCHES = Gauge(
    "els_finishing_batches", "Batches closed (sealed, expired, ...) and not DONE yet.", registry=REGISTRY
)
STUCK_BATCHES = Gauge(
    "els_stuck_finalizations",
    "Closed batches not DONE for longer than ELS_STUCK_AFTER_SECONDS, due a re-kick by the sweep.",
    registry=REGISTRY,
)
PARKED_ARRIVALS = Gauge(
    "els_parked_arrivals",
    "Claims and failures parked for batches not registered yet (not counted on a Redis Cluster).",
    registry=REGISTRY,
)
OUTBOX_BACKLOG = Gauge(
    "els_outbox_backlog",
    "Outbox events waiting to be published, counted in the background.",
    registry=REGISTRY,
)
GAUGES_REFRESHED = Gauge(
    "els_gauges_refreshed_timestamp_seconds", "When the backlog gauges were last counted.", registry=REGISTRY
)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def refresh_gauges(runtime: Runtime) -> None:
    """Count the backlog once and set its gauges; a dependency that does not answer leaves them be."""
    try:
        figures = health.backlog(runtime)
    except ElsError as error:
        logger.warning("backlog gauges not refreshed: %s", error)
        return
    OPEN_BATCHES.set(figures.open_batches)
    OVERDUE_BATCHES.set(figures.overdue_batches)
    OLDEST_UNFINISHED.set(figures.oldest_unfinished_age_seconds)
    FINISHING_BATCHES.set(figures.finishing_batches)
    STUCK_BATCHES.set(figures.stuck_batches)
    PARKED_ARRIVALS.set(figures.parked_arrivals)
    OUTBOX_BACKLOG.set(figures.outbox_events)
    GAUGES_REFRESHED.set_to_current_time()


class HttpMetrics:
    """Count every HTTP request by method, route template (never the raw path) and status, and time it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; count it once its answer has gone (or failed)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        except (ClientDisconnect, asyncio.CancelledError):
            if status == 500:
                status = CLIENT_CLOSED_REQUEST  # the client left before an answer: not a server error
            raise
        finally:
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            route = getattr(scope.get("route"), "path", None)
            template = route if isinstance(route, str) else "unmatched"
            HTTP_REQUESTS.labels(method=method, route=template, status=str(status)).inc()
            HTTP_LATENCY.labels(method=method, route=template).observe(time.perf_counter() - started)


class GaugeRefresher:
    """A daemon thread recounting the gauges every `interval` seconds until `stop`."""

    def __init__(self, runtime: Runtime, interval: float) -> None:
        self._runtime = runtime
        self._interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="els-gauges", daemon=True)

    def start(self) -> None:
        """Count once now (in the background) and then every interval."""
        self._thread.start()

    def stop(self) -> None:
        """Stop and wait for the thread (at most one count in flight)."""
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                refresh_gauges(self._runtime)
            except Exception:  # the refresher must outlive any one failure
                logger.exception("backlog gauges not refreshed")
            self._stopped.wait(self._interval)


def _check_metrics_token(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    runtime = runtime_of(request)
    expected = runtime.settings.metrics_token_sha256
    if expected is None:
        raise NotFoundError("not found")
    address = request.client.host if request.client is not None else "unknown"
    limits.admit_address(runtime, address)
    presented = "" if credentials is None else credentials.credentials
    digest = hashlib.sha256(presented.encode()).hexdigest()
    if credentials is None or not hmac.compare_digest(digest, expected.lower()):
        limits.record_auth_failure(runtime, address)
        raise UnauthorizedError("the metrics bearer token is missing or not valid")


@router.get("/metrics", response_class=Response, dependencies=[Depends(_check_metrics_token)])
def metrics() -> Response:
    """Prometheus exposition of the API's metrics; the backlog gauges are counted in the background."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
