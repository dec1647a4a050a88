"""Publishing events to the topic exchange consumers bind to (kombu, on the broker's transport)."""

from __future__ import annotations

from kombu import Connection, Exchange, Producer
from kombu.exceptions import KombuError

from els.errors import PublishError
from services.ports import OutgoingEvent

PERSISTENT = 2  # AMQP delivery mode; brokers that persist keep the message across restarts.


class KombuPublisher:
    """Publishes to a durable topic exchange: JSON, persistent, message id = event id.

    Use it as `with contextlib.closing(KombuPublisher(...)) as publisher:` so its connection is released.
    """

    def __init__(self, url: str, exchange: str, *, connect_timeout: float = 5.0) -> None:
        self._connection = Connection(url, connect_timeout=connect_timeout)
        self._exchange = Exchange(exchange, type="topic", durable=True)
        self._producer: Producer | None = None

    def publish(self, event: OutgoingEvent) -> None:
        """Publish `event` to the exchange with its type as routing key; raises PublishError."""
        connection = self._connection
        errors: tuple[type[BaseException], ...] = (
            *connection.connection_errors,
            *connection.channel_errors,
            KombuError,
            OSError,
        )
        try:
            if self._producer is None:
                self._producer = Producer(connection)
            self._producer.publish(
                event.body,
                exchange=self._exchange,
                routing_key=event.routing_key,
                declare=[self._exchange],
                delivery_mode=PERSISTENT,
                content_type="application/json",
                content_encoding="utf-8",
                headers={"event_id": event.event_id, "event_type": event.event_type},
                message_id=event.event_id,
                # A short retry rides out a reconnect; longer outages are the outbox's backoff.
                retry=True,
                retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1},
            )
        except errors as error:
            self._producer = None
            raise PublishError(
                f"could not publish {event.event_type} {event.event_id}: {error}",
                details={"event_id": event.event_id, "event_type": event.event_type},
            ) from error

    def close(self) -> None:
        """Release the broker connection."""
        self._producer = None
        self._connection.release()
