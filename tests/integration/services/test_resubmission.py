"""The sweep resubmits a stale submission, and each time after that waits twice as long (up to 8 times)."""

from __future__ import annotations

import redis

from coordinator import now_ms
from services.runtime import Runtime
from services.sweep import sweep
from tests.integration.services.support import queued_tasks
from tests.support.batches import register_batch, submit


def test_a_submission_whose_message_waits_in_a_long_queue_gains_few_copies(
    sqlite_runtime: Runtime, redis_client: redis.Redis
) -> None:
    runtime = sqlite_runtime
    settings = runtime.settings
    period_ms = max(settings.stuck_after_seconds, settings.visibility_timeout) * 1000
    batch_id = register_batch(runtime, 1, deadline_seconds=30 * 86400)
    submission_id = submit(runtime, batch_id, "lost.txt", b"an essay nobody processes", enqueue=False)
    start = now_ms()

    def resubmitted_at(periods: float) -> bool:
        return submission_id in {
            item.submission_id for item in sweep(runtime, int(start + periods * period_ms) + 1).resubmitted
        }

    # Sweeping every half period for 20 periods: sent at 1, then 1+2, then 3+4, then 7+8, then 15+8.
    sent = [periods / 2 for periods in range(1, 41) if resubmitted_at(periods / 2)]
    assert sent == [1.0, 3.0, 7.0, 15.0]
    processing = [task for task, _ in queued_tasks(redis_client, runtime) if task == "els.process_essay"]
    assert len(processing) == 4
