"""`/metrics` for Prometheus: behind its own bearer token, served from gauges counted in the background.

A scrape does no Redis or SQL work at all: a thread of the API recounts the backlog gauges every
`ELS_METRICS_REFRESH_SECONDS`, and the scrape only renders the registry. Without
`ELS_METRICS_TOKEN_SHA256` the route answers 404, as if it did not exist.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Gauge, generate_latest

from api.state import runtime_of
from els.errors import ElsError, NotFoundError, UnauthorizedError
from services import health, limits
from services.runtime import Runtime

logger = logging.getLogger(__name__)
router = APIRouter(tags=["operations"])
_bearer = HTTPBearer(auto_error=False, description="The token whose sha256 is ELS_METRICS_TOKEN_SHA256.")

OPEN_BATCHES = Gauge(
    "els_open_batches", "Batches OPEN in the coordinator's index, counted in the background."
)
OUTBOX_BACKLOG = Gauge(
    "els_outbox_backlog", "Outbox events waiting to be published, counted in the background."
)
GAUGES_REFRESHED = Gauge(
    "els_gauges_refreshed_timestamp_seconds", "When the backlog gauges were last counted."
)


def refresh_gauges(runtime: Runtime) -> None:
    """Count the backlog once and set its gauges; a dependency that does not answer leaves them be."""
    try:
        figures = health.backlog(runtime)
    except ElsError as error:
        logger.warning("backlog gauges not refreshed: %s", error)
        return
    OPEN_BATCHES.set(figures.open_batches)
    OUTBOX_BACKLOG.set(figures.outbox_events)
    GAUGES_REFRESHED.set_to_current_time()


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
    """Prometheus exposition of every ELS metric; the backlog gauges are counted in the background."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
