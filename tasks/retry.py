"""Which errors are transient: a task retries them with backoff; anything else is final."""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

import redis
from celery import Task, current_task, shared_task
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy.exc import OperationalError as DatabaseError

from els.errors import BlobStoreUnavailableError, NotReplicatedError, RetryLaterError

TRANSIENT: tuple[type[Exception], ...] = (
    redis.ConnectionError,
    redis.TimeoutError,
    DatabaseError,
    BrokerError,
    RetryLaterError,
    BlobStoreUnavailableError,
    # Redis took the step but its replicas did not confirm it in time; the step is safe to replay.
    NotReplicatedError,
)

# Backoff stays far below the broker's visibility timeout, so a retry is never also redelivered.
RETRY_BACKOFF_MAX = 300
ANALYSIS_MAX_RETRIES = 8
# Processing and settling is what makes a submission count: it retries for over an hour before giving up.
# Fixed per kind of task, not settings: each budget is sized against the backoff and the visibility timeout.
SETTLE_MAX_RETRIES = 20

P = ParamSpec("P")
R = TypeVar("R")


def retrying_task(
    name: str, *, max_retries: int, ignore_result: bool = True
) -> Callable[[Callable[P, R]], Task[P, R]]:
    """`shared_task` that retries TRANSIENT errors with jittered exponential backoff, then fails for good."""
    return shared_task(
        name=name,
        autoretry_for=TRANSIENT,
        retry_backoff=True,
        retry_backoff_max=RETRY_BACKOFF_MAX,
        retry_jitter=True,
        max_retries=max_retries,
        ignore_result=ignore_result,
    )


def is_final_failure(error: Exception) -> bool:
    """Whether `error`, raised by the running task, ends it for good: not transient, or its last retry."""
    if not isinstance(error, TRANSIENT):
        return True
    max_retries = current_task.max_retries
    return max_retries is not None and current_task.request.retries >= max_retries
