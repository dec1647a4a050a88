"""Celery configuration for ELS, built from `els.settings.Settings`.

`celery -A worker ...` loads the app in `worker/`, which applies `build(settings)` through
`tasks.app.create_app`. Importing this module has no side effects. Every value is chosen for
at-least-once delivery with idempotent tasks; the comment above each says why it is set.
"""

from __future__ import annotations

from datetime import timedelta

from kombu import Exchange, Queue

from els.settings import Settings

SWEEP_TASK = "els.sweep"
EXPIRE_DUE_TASK = "els.expire_due"
RELAY_TASK = "els.relay_outbox"
WEBHOOK_TASK = "els.send_webhooks"
PROCESS_TASK = "els.process_essay"
# By name (tasks/timelimits.py): this module imports nothing of ELS but its settings.
OWN_LIMITS_REQUEST = "tasks.timelimits:OwnLimitsRequest"
# Short bookkeeping tasks that deadlines and completions wait on: they get a queue of their own, so a
# backlog of essays never holds them back (and never makes beat's sweep expire unrun).
CONTROL_TASKS = (
    SWEEP_TASK,
    EXPIRE_DUE_TASK,
    RELAY_TASK,
    WEBHOOK_TASK,
    "els.complete_batch",
    "els.finalize_batch",
    "els.registration_followup",
)


def uses_rabbitmq(settings: Settings) -> bool:
    """Whether the broker is RabbitMQ (an `amqp://`, `amqps://` or `pyamqp://` URL)."""
    scheme = settings.celery_broker_url.split("://", 1)[0].lower()
    return scheme in {"amqp", "amqps", "pyamqp"}


def queues(settings: Settings) -> tuple[Queue, ...]:
    """The essay and control queues.

    On RabbitMQ they are quorum queues (replicated, durable, and a message is never lost with a node),
    each bound to a topic exchange of its own name: Celery then sends countdowns and retries through
    RabbitMQ's native delayed delivery instead of holding them unacknowledged in a worker.
    """
    names = (settings.queue, settings.celery_control_queue)
    if not uses_rabbitmq(settings):
        return tuple(Queue(name) for name in names)
    return tuple(
        Queue(
            name,
            Exchange(name, type="topic", durable=True),
            routing_key=name,
            durable=True,
            queue_arguments={"x-queue-type": "quorum"},
        )
        for name in names
    )


def build(settings: Settings) -> dict[str, object]:
    """The Celery configuration mapping for these settings."""
    if uses_rabbitmq(settings):
        return {**_common(settings), **_rabbitmq()}
    return {**_common(settings), **_redis(settings)}


def _rabbitmq() -> dict[str, object]:
    return {
        # The broker confirms every publish: a message sent is a message RabbitMQ has taken.
        "broker_transport_options": {"confirm_publish": True},
        # Quorum queues need per-consumer prefetch (Celery detects them and switches off global QoS).
        "worker_detect_quorum_queues": True,
        "broker_native_delayed_delivery_queue_type": "quorum",
    }


def _redis(settings: Settings) -> dict[str, object]:
    transport_options: dict[str, object] = {
        # An unacknowledged message is redelivered after this long; it must exceed the hard time limit
        # (checked in `worker.app`) or a slow task would run twice in parallel.
        "visibility_timeout": settings.visibility_timeout,
        # Every worker looks for such messages every 10 s (kombu's default scans only every 100 s), so the
        # work of a crashed worker comes back within the visibility timeout plus 10 s.
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 1,
        # The lock around that scan; a worker killed while holding it delays recovery by at most this.
        "unacked_mutex_expire": 60,
    }
    return {"broker_transport_options": transport_options}


def _common(settings: Settings) -> dict[str, object]:
    return {
        "broker_url": settings.celery_broker_url,
        "result_backend": settings.celery_result_backend,
        # JSON only: a pickled message from the broker could run code in the worker.
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        # Acknowledge after the task ran, so a crash mid-task redelivers it; every task is idempotent.
        "task_acks_late": True,
        # A child killed by the OOM killer or SIGKILL requeues its message instead of acknowledging it.
        "task_reject_on_worker_lost": True,
        # One message reserved at a time: essays are slow next to the broker round trip, so spread them.
        "worker_prefetch_multiplier": 1,
        # Bound every task well under the visibility timeout (see above).
        "task_soft_time_limit": settings.task_soft_time_limit,
        "task_time_limit": settings.task_time_limit,
        # Processing one upload gets limits of its own, never above the general ones, on the task itself:
        # the consuming worker enforces its own limits whatever a message's sender stamped
        # (tasks/timelimits.py).
        "task_annotations": {
            PROCESS_TASK: {
                "soft_time_limit": min(settings.process_soft_time_limit, settings.task_soft_time_limit),
                "time_limit": min(settings.process_time_limit, settings.task_time_limit),
            },
            # Every task is consumed through a request that keeps the worker's own limits.
            "*": {"Request": OWN_LIMITS_REQUEST},
        },
        # Results only where a chord needs them (analysis headers); everything else ignores them.
        "task_ignore_result": True,
        # Chord state lives in result keys; a chord must finish well inside their lifetime.
        "result_expires": timedelta(days=1),
        "result_extended": False,
        # Survive a Redis blip around chord bookkeeping instead of losing the callback.
        "result_backend_always_retry": True,
        "redis_retry_on_timeout": True,
        "redis_backend_health_check_interval": 30,
        # Task events on, so Flower sees every task from sent to finished.
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "task_track_started": True,
        # Keep retrying the broker at start-up: Redis may come up after the worker.
        "broker_connection_retry_on_startup": True,
        # A broker blip must not leave a task running while its message is redelivered elsewhere.
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        # Soft shutdown: on a deploy, finish or requeue running work for up to 30 s instead of losing it.
        "worker_soft_shutdown_timeout": 30.0,
        "worker_enable_soft_shutdown_on_idle": True,
        # Essay work on one named queue, control work on another (several deployments can share a broker by
        # name). A worker started without -Q consumes both; `-Q <queue>` and `-Q <control queue>` split them.
        "task_default_queue": settings.queue,
        "task_queues": queues(settings),
        "task_routes": {name: {"queue": settings.celery_control_queue} for name in CONTROL_TASKS},
        "task_create_missing_queues": True,
        # Timestamps in UTC; the sweep compares them to Redis deadlines stored as UTC epoch milliseconds.
        "enable_utc": True,
        "timezone": "UTC",
        "beat_schedule": {
            "sweep": {
                "task": SWEEP_TASK,
                "schedule": settings.sweep_interval_seconds,
                # A backlog of sweeps after an outage is dropped: one fresh sweep does all their work.
                "options": {"expires": max(1.0, settings.sweep_interval_seconds * 0.9)},
            },
            "relay-outbox": {
                "task": RELAY_TASK,
                "schedule": 10.0,
                "options": {"expires": 9.0},
            },
            # The backstop of webhook retries whose backoff outlasts a sender's own follow-up.
            "send-webhooks": {
                "task": WEBHOOK_TASK,
                "schedule": 10.0,
                "options": {"expires": 9.0},
            },
        },
        # Beat wakes often enough to notice schedule changes; interval schedules only (no DST).
        "beat_max_loop_interval": 5,
    }
