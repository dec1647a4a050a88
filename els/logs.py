"""Structured logs: JSON when stderr is not a terminal, with the ids of the work in hand on every line."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

CONTEXT_FIELDS = ("batch_id", "essay_id", "submission_id", "correlation_id")

_context: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("els_log_context", default={})  # noqa: B039 - never mutated


@contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    """Attach ids (batch_id, essay_id, submission_id, correlation_id) to every log line inside the block."""
    merged = {**_context.get(), **{key: value for key, value in fields.items() if value is not None}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the context ids as top-level fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, str] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in CONTEXT_FIELDS:
            value = getattr(record, key, None)
            if isinstance(value, str):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Human-readable lines for a terminal, with the context ids appended."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = " ".join(f"{key}={getattr(record, key)}" for key in CONTEXT_FIELDS if hasattr(record, key))
        return f"{line} [{ids}]" if ids else line


def configure_logging(level: str = "INFO", json_logs: bool | None = None) -> None:
    """Send every logger to stderr, as JSON unless stderr is a terminal (or `json_logs` says otherwise)."""
    use_json = (not sys.stderr.isatty()) if json_logs is None else json_logs
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ContextFilter())
    handler.setFormatter(
        JsonFormatter() if use_json else TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
