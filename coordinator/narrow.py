"""Narrowing raw Redis replies (bytes or str, ints, nested lists) to plain typed values.

Anything of another shape raises UnexpectedReplyError: a reply ELS does not understand is never guessed
around.
"""

from __future__ import annotations

from els.errors import UnexpectedReplyError


def text(value: object) -> str:
    """A bulk string reply as str."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, str):
        return value
    raise UnexpectedReplyError(f"expected a string reply, got {type(value).__name__}")


def optional_text(value: object) -> str | None:
    """A bulk string reply as str; nil and the empty string become None."""
    if value is None:
        return None
    result = text(value)
    return result or None


def integer(value: object) -> int:
    """An integer reply (or a string holding one) as int."""
    if type(value) is int:  # the common case first; bool (a subclass of int) falls through
        return value
    if isinstance(value, bool):
        raise UnexpectedReplyError("expected an integer reply, got a boolean")
    if isinstance(value, bytes | str):
        try:
            return int(value)
        except ValueError as error:
            raise UnexpectedReplyError(f"expected an integer reply, got {value!r}") from error
    raise UnexpectedReplyError(f"expected an integer reply, got {type(value).__name__}")


def flag(value: object) -> bool:
    """A 0/1 integer reply as bool."""
    number = integer(value)
    if number not in (0, 1):
        raise UnexpectedReplyError(f"expected 0 or 1, got {number}")
    return number == 1


def array(value: object, length: int | None = None) -> list[object]:
    """A multi-bulk reply as a list, optionally of an exact length (redis-py hands some over as tuples)."""
    if isinstance(value, tuple):
        value = [*value]
    if not isinstance(value, list):
        raise UnexpectedReplyError(f"expected an array reply, got {type(value).__name__}")
    if length is not None and len(value) != length:
        raise UnexpectedReplyError(f"expected an array of {length}, got {len(value)}")
    items: list[object] = value
    return items


def texts(value: object) -> tuple[str, ...]:
    """A multi-bulk reply of strings as a tuple of str."""
    return tuple(text(item) for item in array(value))
