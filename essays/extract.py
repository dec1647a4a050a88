"""One call from detected media type to raw text, each format under its caps from `Limits`."""

from __future__ import annotations

from collections.abc import Callable

from essays.detect import MediaType
from essays.docx_extraction import ArchiveCaps, extract_docx_text
from essays.pdf_extraction import PdfCaps, extract_pdf_text
from essays.text_decoding import decode_text
from essays.validate import Limits

PdfReader = Callable[[bytes, PdfCaps], str]


def extract_text(
    data: bytes, media_type: MediaType, limits: Limits, pdf_text: PdfReader = extract_pdf_text
) -> str:
    """Raw (not yet normalised) text of an upload of a known media type; Markdown is kept as text.

    `pdf_text` reads PDFs (in this process by default; the worker passes one that isolates it).
    """
    if media_type is MediaType.DOCX:
        caps = ArchiveCaps(
            max_uncompressed_bytes=limits.docx_max_uncompressed_bytes,
            max_compression_ratio=limits.docx_max_compression_ratio,
            max_entries=limits.docx_max_entries,
        )
        return extract_docx_text(data, caps)
    if media_type is MediaType.PDF:
        pdf_caps = PdfCaps(
            max_pages=limits.pdf_max_pages,
            max_seconds=limits.pdf_max_seconds,
            max_words=limits.max_words,
            max_page_content_bytes=limits.pdf_max_page_content_bytes,
            max_content_bytes=limits.pdf_max_content_bytes,
            max_page_operators=limits.pdf_max_page_operators,
        )
        return pdf_text(data, pdf_caps)
    return decode_text(data)
