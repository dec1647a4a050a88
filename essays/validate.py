"""The configurable rules an essay must meet, and the checks that apply them.

`Limits` mirrors the `els.settings.Settings` fields of the same names (its defaults are theirs); the
edges build it from the settings, this package never reads them.
"""

from __future__ import annotations

from dataclasses import dataclass

from els.errors import EssayRejectedError, RejectionCode


@dataclass(frozen=True)
class Limits:
    """Size, length and hostile-file caps applied to every upload."""

    max_upload_bytes: int = 10 * 1024 * 1024
    min_words: int = 20
    max_words: int = 10_000
    docx_max_uncompressed_bytes: int = 50 * 1024 * 1024
    docx_max_compression_ratio: int = 100
    # Not a setting: a real essay .docx has a few dozen entries; thousands only cost time.
    docx_max_entries: int = 1000
    pdf_max_pages: int = 100
    pdf_max_seconds: float = 10.0
    pdf_max_page_content_bytes: int = 512 * 1024
    pdf_max_content_bytes: int = 4 * 1024 * 1024
    # Not a setting: a page of running text runs a few thousand operators; this many, at the page
    # content cap, already means seconds of work.
    pdf_max_page_operators: int = 100_000

    def __post_init__(self) -> None:
        if self.min_words < 0 or self.max_words < max(self.min_words, 1):
            raise ValueError("limits need 0 <= min_words <= max_words and max_words >= 1")
        positive = (
            self.max_upload_bytes,
            self.docx_max_uncompressed_bytes,
            self.docx_max_compression_ratio,
            self.docx_max_entries,
            self.pdf_max_pages,
            self.pdf_max_page_content_bytes,
            self.pdf_max_content_bytes,
            self.pdf_max_page_operators,
        )
        if min(positive) < 1 or self.pdf_max_seconds <= 0:
            raise ValueError("every size, ratio, count and time cap must be positive")


def check_upload_size(size_bytes: int, limits: Limits) -> None:
    """Reject an empty upload (EMPTY_CONTENT) or one over `max_upload_bytes` (CONTENT_TOO_LONG)."""
    if size_bytes == 0:
        raise EssayRejectedError(RejectionCode.EMPTY_CONTENT, "the file is empty")
    if size_bytes > limits.max_upload_bytes:
        raise EssayRejectedError(
            RejectionCode.CONTENT_TOO_LONG,
            f"the file is {size_bytes} bytes; at most {limits.max_upload_bytes} are accepted",
            details={"limit": "max_upload_bytes", "actual": size_bytes, "maximum": limits.max_upload_bytes},
        )


def check_word_count(words: int, limits: Limits) -> None:
    """Reject text with no words (EMPTY_CONTENT), too few or too many words."""
    if words == 0:
        raise EssayRejectedError(RejectionCode.EMPTY_CONTENT, "the file contains no readable text")
    if words < limits.min_words:
        raise EssayRejectedError(
            RejectionCode.CONTENT_TOO_SHORT,
            f"the essay has {words} words; at least {limits.min_words} are needed",
            details={"limit": "min_words", "actual": words, "minimum": limits.min_words},
        )
    if words > limits.max_words:
        raise EssayRejectedError(
            RejectionCode.CONTENT_TOO_LONG,
            f"the essay has {words} words; at most {limits.max_words} are accepted",
            details={"limit": "max_words", "actual": words, "maximum": limits.max_words},
        )
