"""The beat-driven sweep: expire due batches, re-kick stuck ones, resubmit stale submissions."""

from __future__ import annotations

from amqp.channel import Channel as AmqpChannel
from celery import shared_task
from kombu import Connection
from kombu.transport.virtual import Channel as VirtualChannel

import celeryconfig
from els.errors import ConfigurationError
from els.runtime import Runtime, get_runtime
from els.settings import Settings
from pipeline.sweep import SweepResult, sweep
from tasks.pipeline import dispatch_completion, start_processing


def waiting_messages(settings: Settings) -> int:
    """Messages waiting in the ELS queue on the broker (0 when the queue was never declared)."""
    with Connection(settings.celery_broker_url) as connection:
        channel = connection.default_channel
        if not isinstance(channel, VirtualChannel | AmqpChannel):
            raise ConfigurationError(
                f"cannot count the messages of a {type(channel).__name__} broker channel"
            )
        try:
            declared = channel.queue_declare(queue=settings.queue, passive=True)
        except connection.channel_errors:
            return 0
    return declared[1] if declared is not None else 0


def sweep_and_dispatch(runtime: Runtime, now: int | None = None) -> SweepResult:
    """One sweep, then the messages it calls for: completion of each batch, processing of each submission.

    Stale submissions are looked for only while no message waits in the queue: behind a backlog an
    untouched submission is most likely still queued, and sending it again would only grow the backlog.
    """
    result = sweep(runtime, now, queue_idle=lambda: waiting_messages(runtime.settings) == 0)
    for batch_id in result.to_complete:
        dispatch_completion(batch_id)
    for stale in result.resubmitted:
        start_processing(stale.batch_id, stale.submission_id, stale.correlation_id)
    return result


@shared_task(name=celeryconfig.SWEEP_TASK)
def sweep_task() -> dict[str, int]:
    """One bounded sweep with this process's runtime."""
    result = sweep_and_dispatch(get_runtime())
    return {
        "expired": len(result.expired),
        "rekicked": len(result.rekicked),
        "resubmitted": len(result.resubmitted),
    }
