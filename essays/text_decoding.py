"""Bytes of a plain-text upload to `str`: byte-order marks first, then UTF-8, then charset detection."""

from __future__ import annotations

import codecs

from charset_normalizer import CharsetMatch, from_bytes

from els.errors import EssayRejectedError, RejectionCode

# UTF-32 before UTF-16: the UTF-32 LE mark begins with the UTF-16 LE one.
_BYTE_ORDER_MARKS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Among code pages that decode the bytes equally well, Windows-1252 is by far the most likely for a
# school essay; charset detection alone often names cp1250, turning French "è" into "č".
_PREFERRED_LEGACY = "cp1252"


def byte_order_mark_encoding(data: bytes) -> tuple[str, int] | None:
    """The encoding a byte-order mark at the start of `data` declares, and the mark's length."""
    for mark, encoding in _BYTE_ORDER_MARKS:
        if data.startswith(mark):
            return encoding, len(mark)
    return None


def looks_like_text(data: bytes) -> bool:
    """True when `data` carries a byte-order mark or decodes as text in some recognisable encoding."""
    if byte_order_mark_encoding(data) is not None:
        return True
    try:
        decode_text(data)
    except EssayRejectedError:
        return False
    return True


def decode_text(data: bytes) -> str:
    """Decode plain text; TEXT_EXTRACTION_FAILED when no encoding fits."""
    declared = byte_order_mark_encoding(data)
    if declared is not None:
        encoding, mark_length = declared
        try:
            return data[mark_length:].decode(encoding)
        except UnicodeDecodeError as error:
            raise _undecodable(
                f"the text is not valid {encoding} although it starts with its mark"
            ) from error
    # Many NUL bytes mean UTF-16 or UTF-32 without a mark, which is valid (and wrong) UTF-8.
    if data.count(0) * 4 <= len(data):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    match = _best_match(data)
    if match is None:
        raise _undecodable("the text's character encoding could not be recognised")
    return str(match)


def _best_match(data: bytes) -> CharsetMatch | None:
    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        return None
    for match in matches:
        tied = match.chaos == best.chaos and match.coherence == best.coherence
        if tied and match.encoding == _PREFERRED_LEGACY:
            return match
    return best


def _undecodable(message: str) -> EssayRejectedError:
    return EssayRejectedError(RejectionCode.TEXT_EXTRACTION_FAILED, message, details={"reason": "encoding"})
