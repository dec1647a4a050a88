"""The text of an RTF document, by striprtf: control words and groups parsed away, text kept.

Before striprtf reads it, tracked deletions are dropped and text boxes brought into the text
(`essays.rtf_revisions`).
"""

from __future__ import annotations

from striprtf.striprtf import rtf_to_text

from els.errors import EssayRejectedError, RejectionCode
from essays.rtf_revisions import visible_rtf


def extract_rtf_text(data: bytes) -> str:
    """Plain text of an RTF upload (7-bit by the format; code pages and `\\u` escapes decoded)."""
    try:
        source = data.decode("ascii")
    except UnicodeDecodeError as error:
        raise EssayRejectedError(
            RejectionCode.TEXT_EXTRACTION_FAILED,
            "the RTF file cannot be read: it holds bytes that RTF never writes (it may be damaged)",
            details={"reason": "corrupt"},
        ) from error
    return rtf_to_text(visible_rtf(source), errors="replace")
