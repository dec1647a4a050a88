"""A Celery entry point for tests: the real worker app, with the faults of `tests.support.faults`.

`celery -A tests.support.faulty_worker worker` runs ELS exactly as `celery -A worker worker` does, except
that uploads and texts marked as faulty fail (see `tests/support/faults.py`). Never used in production.
"""

from __future__ import annotations

import pytest

from tests.support.faults import install_faults
from worker import app, settings

# Never undone: the faults last as long as the worker process (and its pool children, forked after this).
install_faults(pytest.MonkeyPatch())

__all__ = ["app", "settings"]
