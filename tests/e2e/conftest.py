"""The pipeline's worker on either broker: the session's Redis worker, or RabbitMQ with quorum queues."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from celery import Celery
from kombu import Connection, Exchange

import bootstrap
import celeryconfig
from els.settings import Settings
from tasks.app import create_app
from tests.support.workers import WorkerFleet


def rabbitmq_settings(settings: Settings, rabbitmq_url: str) -> Settings:
    """`settings` moved to RabbitMQ, with a queue and key prefix of their own."""
    tag = uuid.uuid4().hex[:10]
    return settings.model_copy(
        update={"broker_url": rabbitmq_url, "queue": f"els-test-{tag}", "key_prefix": f"elstest-r{tag}"}
    )


def delete_queues(settings: Settings) -> None:
    """Remove the settings' quorum queues and exchanges from RabbitMQ (they outlive the test)."""
    with Connection(settings.celery_broker_url) as connection:
        channel = connection.channel()
        for queue in celeryconfig.queues(settings):
            queue.bind(channel).delete()
            if queue.exchange is not None:
                queue.exchange.bind(channel).delete()
        Exchange(settings.events_exchange).bind(channel).delete()


@pytest.fixture(scope="module")
def rabbitmq_worker(
    worker_settings: Settings,
    rabbitmq_url: str,
    celery_app: Celery,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Settings]:
    """A worker process on RabbitMQ for the module, answering pings; yields its settings."""
    settings = rabbitmq_settings(worker_settings, rabbitmq_url)
    app = create_app(settings)
    celery_app.set_current()  # a new Celery app makes itself current; the session's app stays so
    try:
        with WorkerFleet(settings, tmp_path_factory.mktemp("rabbitmq-worker"), size=1, concurrency=2):
            wait_until_answering(app)
            yield settings
    finally:
        delete_queues(settings)


def wait_until_answering(app: Celery, timeout: float = 180) -> None:
    """Block until a worker of `app` answers a ping (a worker process can take a while to start)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.control.ping(timeout=1.0):
            return
    raise AssertionError(f"no worker answered on {app.conf.broker_url} within {timeout} s")


@pytest.fixture(params=["redis", "rabbitmq"])
def broker_worker(request: pytest.FixtureRequest, celery_app: Celery) -> Iterator[str]:
    """A running worker on each broker in turn, with this process dispatching to it; yields the broker."""
    if request.param == "redis":
        request.getfixturevalue("els_worker")
        yield "redis"
        return
    settings: Settings = request.getfixturevalue("rabbitmq_worker")
    previous = bootstrap.installed_runtime()
    bootstrap.install(bootstrap.build_runtime(settings, create_app(settings)), close_previous=False)
    celery_app.set_current()
    try:
        yield "rabbitmq"
    finally:
        bootstrap.install(previous)
        celery_app.set_current()
