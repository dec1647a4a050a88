"""The app's runtime, built in the lifespan and kept on `app.state`."""

from __future__ import annotations

from fastapi import Request

from els.errors import ConfigurationError
from services.runtime import Runtime


def runtime_of(request: Request) -> Runtime:
    """The running app's runtime; ConfigurationError before the lifespan has built it."""
    runtime = getattr(request.app.state, "els", None)
    if not isinstance(runtime, Runtime):
        raise ConfigurationError("the API's clients are not built: is the lifespan running?")
    return runtime
