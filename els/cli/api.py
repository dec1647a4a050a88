"""`els api`: serve the HTTP API with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from api.app import create_app
from els.logs import configure_logging
from els.settings import Settings


def api(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: ELS_API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default: ELS_API_PORT).")] = None,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs and /openapi.json)."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    uvicorn.run(
        create_app(settings),
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_config=None,
        proxy_headers=True,
    )
