"""One error shape for every failure: `{"error": {code, message, correlation_id, details}}`.

Errors are translated here once; every handler returns a response and never raises.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from els.errors import (
    ArchiveRefusedError,
    BatchGoneError,
    ConflictError,
    ElsError,
    IdempotencyKeyReusedError,
    InvalidInputError,
    NotFoundError,
    NotReadyError,
    PayloadTooLargeError,
    QuotaExceededError,
    RateLimitedError,
    UnauthorizedError,
    UnsupportedLanguageError,
    UnsupportedMediaTypeError,
)

logger = logging.getLogger(__name__)

ErrorDetails = dict[str, str | int | None]

# How long a client should wait before retrying while a dependency does not answer.
RETRY_AFTER_SECONDS = 5
# Nobody reads the answer to a request whose client has gone; 499 is the status proxies log for it.
CLIENT_CLOSED_REQUEST = 499


_STATUS: tuple[tuple[type[ElsError], int], ...] = (
    (IdempotencyKeyReusedError, 422),
    (UnauthorizedError, 401),
    (NotFoundError, 404),
    (ConflictError, 409),
    (PayloadTooLargeError, 413),
    (UnsupportedMediaTypeError, 415),
    (InvalidInputError, 422),
    (ArchiveRefusedError, 422),
    (UnsupportedLanguageError, 422),
    (BatchGoneError, 410),
    (NotReadyError, 503),
    (RateLimitedError, 429),
    (QuotaExceededError, 429),
)

_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 401: "UNAUTHORIZED", 413: "PAYLOAD_TOO_LARGE"}


def correlation_id_of(request: Request) -> str:
    """The request's correlation id, as the correlation middleware set it."""
    value = request.scope.get("state", {}).get("correlation_id")
    return value if isinstance(value, str) else ""


def error_response(
    status: int, code: str, message: str, correlation_id: str, details: ErrorDetails | None = None
) -> JSONResponse:
    """The one error body, with its status."""
    body = {
        "error": {
            "code": code,
            "message": message,
            "correlation_id": correlation_id,
            "details": details or {},
        }
    }
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if status == 503:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    if status == 429:
        wait = (details or {}).get("retry_after")
        headers["Retry-After"] = str(wait if isinstance(wait, int) and wait > 0 else 1)
    return JSONResponse(body, status_code=status, headers=headers)


def status_of(error: ElsError) -> int:
    """The HTTP status of a deliberate error; unknown kinds are server errors."""
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 500


async def _els_error(request: Request, error: Exception) -> JSONResponse:
    if not isinstance(error, ElsError):
        return await _unexpected(request, error)
    status = status_of(error)
    if status == 500:
        logger.error("request failed: %s", error)
    return error_response(status, error.code, error.message, correlation_id_of(request), error.details)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    details: ErrorDetails = {}
    message = "the request is not valid"
    if isinstance(error, RequestValidationError):
        for index, problem in enumerate(error.errors()[:10]):
            if isinstance(problem, dict):
                where = ".".join(str(part) for part in problem.get("loc", ()))[:200]
                details[where or f"problem_{index}"] = str(problem.get("msg", ""))[:200]
    return error_response(422, InvalidInputError.code, message, correlation_id_of(request), details)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    status = error.status_code if isinstance(error, HTTPException) else 500
    message = str(error.detail) if isinstance(error, HTTPException) else "internal error"
    code = _HTTP_CODES.get(status, "HTTP_ERROR")
    return error_response(status, code, message, correlation_id_of(request))


async def _client_disconnected(request: Request, error: Exception) -> JSONResponse:
    # The client went away while its body was read: nothing was stored, and nothing is wrong here.
    logger.info(
        "client aborted the request before its body was read: %s %s", request.method, request.url.path
    )
    return error_response(
        CLIENT_CLOSED_REQUEST,
        "CLIENT_CLOSED_REQUEST",
        "the client closed the request",
        correlation_id_of(request),
    )


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    logger.error("unhandled error", exc_info=error)
    return error_response(500, "INTERNAL_ERROR", "internal error", correlation_id_of(request))


def install_error_handlers(app: FastAPI) -> None:
    """Route every kind of failure to the one error shape."""
    app.add_exception_handler(ElsError, _els_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(ClientDisconnect, _client_disconnected)
    app.add_exception_handler(Exception, _unexpected)
