"""The dispatcher sends through the app it was built with, from any thread."""

from __future__ import annotations

import threading
import uuid

import redis
from celery._state import get_current_app

from els.settings import Settings
from tasks.app import create_app
from tasks.dispatch import CeleryDispatcher


def test_the_dispatcher_publishes_to_its_apps_queue_from_a_bare_thread(
    redis_url: str, redis_client: redis.Redis
) -> None:
    previous = get_current_app()
    queue = f"elstest-dispatch-{uuid.uuid4().hex[:8]}"
    settings = Settings(redis_url=redis_url, queue=queue)
    app = create_app(settings)
    previous.set_current()  # creating an app makes it current in this thread; later tests need theirs
    dispatcher = CeleryDispatcher(app, queue)
    try:
        # A bare thread's current app is Celery's default, whose queue is not this one.
        thread = threading.Thread(target=dispatcher.complete, args=("batch-1",))
        thread.start()
        thread.join()
        assert redis_client.llen(settings.celery_control_queue) == 1
    finally:
        redis_client.delete(settings.celery_control_queue)
