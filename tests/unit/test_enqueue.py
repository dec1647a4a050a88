"""Enqueue functions bound to an app publish through it from any thread."""

from __future__ import annotations

import threading

from celery._state import get_current_app

from els.settings import Settings
from tasks.enqueue import through
from worker.app import create_app


def test_a_bound_enqueue_publishes_through_its_app_from_another_thread() -> None:
    previous = get_current_app()
    app = create_app(Settings(queue="queue-of-this-app"))
    previous.set_current()  # creating an app makes it current in this thread; later tests need theirs
    seen: list[str] = []

    def record_queue() -> None:
        seen.append(str(get_current_app().conf.task_default_queue))

    for enqueue in (record_queue, through(app, record_queue)):
        thread = threading.Thread(target=enqueue)
        thread.start()
        thread.join()
    assert seen[1] == "queue-of-this-app"
    assert seen[0] != "queue-of-this-app"  # a bare thread gets Celery's default app
