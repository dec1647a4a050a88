"""The command line's settings and runtime: read from the environment once per command."""

from __future__ import annotations

from functools import cache

import bootstrap
from els.settings import Settings
from services.runtime import Runtime


@cache
def settings() -> Settings:
    """This command's settings, from `ELS_*` variables."""
    return Settings()


@cache
def runtime() -> Runtime:
    """This command's runtime, built on first use."""
    return bootstrap.build_runtime(settings())
