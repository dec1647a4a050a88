"""`els api`: serve the HTTP API with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from cli.context import settings as cli_settings
from cli.http_limits import uvicorn_limits
from els.logs import configure_logging

# By name, so the command line does not import the API (another entry point on its floor).
API_FACTORY = "api:app_from_environment"


def api(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: ELS_API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default: ELS_API_PORT).")] = None,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs and /openapi.json with ELS_API_DOCS=true)."""
    settings = cli_settings()
    limits = uvicorn_limits(settings)
    configure_logging(settings.log_level, settings.log_json)
    uvicorn.run(
        API_FACTORY,
        factory=True,
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_config=None,
        proxy_headers=True,
        # A client must send its headers in time; idle, oversized and excess connections are refused.
        http=limits.http,
        timeout_keep_alive=limits.timeout_keep_alive,
        h11_max_incomplete_event_size=limits.h11_max_incomplete_event_size,
        limit_concurrency=limits.limit_concurrency,
    )
