"""Time limits the worker enforces itself, whatever the message's sender stamped.

Celery stamps the sending app's time limits into each message, and a worker prefers them to its own; so a
fleet started with tighter limits would not enforce them. Every ELS task is consumed through
`OwnLimitsRequest`, which keeps the tighter of the stamped limit and the task's own (the task's come from
this worker's settings: `task_annotations` in celeryconfig.py).
"""

from __future__ import annotations

from celery.worker.request import Request


def tighter(stamped: float | None, own: float | None) -> float | None:
    """The smaller of two limits, either of which may be unset."""
    if stamped is None or stamped <= 0:
        return own
    if own is None or own <= 0:
        return stamped
    return min(stamped, own)


class OwnLimitsRequest(Request):
    """A task request whose time limits never exceed the consuming worker's own for that task."""

    _stamped_limits: tuple[float | None, float | None] = (None, None)

    @property
    def time_limits(self) -> tuple[float | None, float | None]:
        """(hard, soft): each the tighter of the message's and the task's own."""
        hard, soft = self._stamped_limits
        task = self.task
        return tighter(hard, task.time_limit), tighter(soft, task.soft_time_limit)

    @time_limits.setter
    def time_limits(self, value: tuple[float | None, float | None]) -> None:
        self._stamped_limits = (value[0], value[1])
