"""The app's typed container of clients, built in the lifespan and kept on `app.state`."""

from __future__ import annotations

from dataclasses import dataclass

from celery import Celery
from fastapi import Request
from sqlalchemy import Engine

from els.errors import ConfigurationError
from els.intake import Intake
from els.settings import Settings


@dataclass(frozen=True)
class ApiState:
    """Everything a request handler reaches the outside world through."""

    settings: Settings
    engine: Engine
    celery: Celery
    intake: Intake


def api_state(request: Request) -> ApiState:
    """The running app's container; ConfigurationError before the lifespan has built it."""
    state = getattr(request.app.state, "els", None)
    if not isinstance(state, ApiState):
        raise ConfigurationError("the API's clients are not built: is the lifespan running?")
    return state
