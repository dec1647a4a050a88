"""The one error hierarchy: every error ELS raises on purpose has a stable `code`."""

from __future__ import annotations

from collections.abc import Mapping


class ElsError(Exception):
    """Base of every deliberate ELS error; `code` is stable and documented, `message` is for people."""

    code = "ELS_ERROR"

    def __init__(self, message: str, *, details: Mapping[str, str | int | None] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, str | int | None] = dict(details or {})

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class InvalidInputError(ElsError):
    """A caller sent something ELS will not accept (bad id, count out of range, malformed body)."""

    code = "INVALID_INPUT"


class NotFoundError(ElsError):
    """The batch, essay or submission does not exist (or is not the caller's)."""

    code = "NOT_FOUND"


class ConflictError(ElsError):
    """The request contradicts state that already exists (a conflicting replay, a finished batch)."""

    code = "CONFLICT"


class ConfigurationError(ElsError):
    """ELS is configured in a way it cannot run with."""

    code = "CONFIGURATION_ERROR"


class UnexpectedReplyError(ElsError):
    """A server answered in a shape ELS does not understand; never guessed around."""

    code = "UNEXPECTED_REPLY"


class RetryLaterError(ElsError):
    """A step that cannot complete yet but will (a batch still being registered); retried with backoff."""

    code = "RETRY_LATER"
