"""An API app on the session's worker settings, with two owners' tokens, served with its lifespan."""

from __future__ import annotations

import hashlib
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from celery import Celery
from fastapi.testclient import TestClient
from sqlalchemy import func, or_, select

from api.app import create_app
from db.engine import create_db_engine
from db.models import Batch, Submission
from els.settings import Settings

SAMPLES = Path(__file__).parents[3] / "cli" / "samples" / "files"
ALICE_TOKEN = "alice-token-for-tests"
BOB_TOKEN = "bob-token-for-tests"
METRICS_TOKEN = "metrics-token-for-tests"


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for `token`."""
    return {"Authorization": f"Bearer {token}"}


ALICE = bearer(ALICE_TOKEN)
BOB = bearer(BOB_TOKEN)


def digest(token: str) -> str:
    """sha256 hex of a token, as ELS_API_TOKENS holds it."""
    return hashlib.sha256(token.encode()).hexdigest()


def rows_of(settings: Settings, table: type[Batch] | type[Submission], batch_id: str) -> int:
    """How many rows of `table` SQL holds for the batch `batch_id`, whoever's it is (ids are owner-scoped)."""
    engine = create_db_engine(settings.database_url)
    named = or_(table.batch_id == batch_id, table.batch_id.endswith(f"~{batch_id}", autoescape=True))
    try:
        with engine.connect() as connection:
            count = connection.scalar(select(func.count()).select_from(table).where(named))
    finally:
        engine.dispose()
    return count or 0


def new_batch_id() -> str:
    """A batch id no other test uses."""
    return f"api-{uuid.uuid4().hex[:16]}"


def essay_text(topic: str) -> str:
    """A distinct essay of well over the minimum word count."""
    body = " ".join(
        f"{topic} matters because students learn {word} through practice." for word in topic.split()
    )
    return f"{body} Reading and writing about {topic} every week builds habits that last a lifetime."


@pytest.fixture(scope="session")
def api_settings(worker_settings: Settings) -> Settings:
    """The worker's settings plus bearer tokens for alice and bob, the OpenAPI document and /metrics."""
    return worker_settings.model_copy(
        update={
            "api_tokens": {digest(ALICE_TOKEN): "alice", digest(BOB_TOKEN): "bob"},
            "api_docs": True,
            "metrics_token_sha256": digest(METRICS_TOKEN),
            "metrics_refresh_seconds": 1.0,
            # The security suite tests the rate limits; these tests share one client address and token.
            "rate_limit_per_token": "100000/minute",
            "rate_limit_per_address": "100000/minute",
            "auth_failures_per_address": "100000/minute",  # many tests fail auth on purpose
        }
    )


@contextmanager
def serving(settings: Settings, celery_app: Celery) -> Iterator[TestClient]:
    """A client of a fresh app for `settings`, lifespan running; the session's Celery app is current after."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        test_client = TestClient(create_app(settings), raise_server_exceptions=False)
    try:
        with test_client:
            yield test_client
    finally:
        # The lifespan made its own Celery app current (enqueueing publishes through it).
        celery_app.set_current()


@pytest.fixture(scope="session")
def client(api_settings: Settings, celery_app: Celery) -> Iterator[TestClient]:
    """The API on real Redis and the session's migrated PostgreSQL, lifespan running."""
    with serving(api_settings, celery_app) as test_client:
        yield test_client
