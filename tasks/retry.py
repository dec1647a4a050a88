"""Which errors are transient: a task retries them with backoff; anything else is final."""

from __future__ import annotations

import redis
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy.exc import OperationalError as DatabaseError

from els.errors import RetryLaterError

TRANSIENT: tuple[type[Exception], ...] = (
    redis.ConnectionError,
    redis.TimeoutError,
    DatabaseError,
    BrokerError,
    RetryLaterError,
)

# Backoff stays far below the broker's visibility timeout, so a retry is never also redelivered.
RETRY_BACKOFF_MAX = 300
PROCESS_MAX_RETRIES = 8
# Settling is what makes a submission count: it retries for over an hour before giving up.
SETTLE_MAX_RETRIES = 20
