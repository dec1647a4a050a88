"""The HTTP API entry point: `uvicorn --factory api:app_from_environment`, or `els api`."""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_app
from els.settings import Settings


def app_from_environment() -> FastAPI:
    """The API for the `ELS_*` settings of this process."""
    return create_app(Settings())
