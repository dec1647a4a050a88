"""/readyz refuses a database behind the Alembic head and a Redis that may evict, saying what to do."""

from __future__ import annotations

from pathlib import Path

from celery import Celery

from db.migrate import downgrade, upgrade
from els.settings import Settings
from tests.e2e.api.conftest import serving
from tests.integration.coordinator.support import private_redis


def test_an_unmigrated_database_is_not_ready_and_names_the_command(
    api_settings: Settings, celery_app: Celery, tmp_path: Path
) -> None:
    empty = api_settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'empty.db'}"})
    with serving(empty, celery_app) as client:
        answer = client.get("/readyz")
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["schema"].startswith("not ready: the database is never migrated")
    assert "els db upgrade" in checks["schema"]


def test_a_database_one_revision_behind_is_not_ready_until_upgraded(
    api_settings: Settings, celery_app: Celery, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'behind.db'}"
    upgrade(url)
    downgrade(url, "-1")
    behind = api_settings.model_copy(update={"database_url": url})
    with serving(behind, celery_app) as client:
        assert client.get("/readyz").json()["checks"]["schema"].startswith("not ready: the database is at")
        upgrade(url)
        assert client.get("/readyz").json()["checks"]["schema"] == "ok"


def test_a_redis_that_may_evict_is_not_ready(
    api_settings: Settings, celery_app: Celery, tmp_path: Path
) -> None:
    with private_redis(tmp_path, "--maxmemory-policy", "allkeys-lru") as port:
        evicting = api_settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0"})
        with serving(evicting, celery_app) as client:
            answer = client.get("/readyz")
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert checks["redis"] == "ok"
    assert "allkeys-lru" in checks["redis_eviction"] and "noeviction" in checks["redis_eviction"]
