"""One call from detected media type to raw text, each format under its caps from `Limits`."""

from __future__ import annotations

from collections.abc import Callable

from essays.archive import ArchiveCaps
from essays.detect import MediaType
from essays.docx_extraction import extract_docx_text
from essays.markdown_text import markdown_to_text
from essays.odt_extraction import extract_odt_text
from essays.pdf_extraction import PdfCaps, extract_pdf_text
from essays.rtf_text import extract_rtf_text
from essays.text_decoding import decode_text
from essays.validate import Limits

PdfReader = Callable[[bytes, PdfCaps], str]


def extract_text(
    data: bytes, media_type: MediaType, limits: Limits, pdf_text: PdfReader = extract_pdf_text
) -> str:
    """Raw (not yet normalised) text of an upload of a known media type, markup removed.

    `pdf_text` reads PDFs (in this process by default; the worker passes one that isolates it).
    """
    caps = ArchiveCaps(
        max_uncompressed_bytes=limits.docx_max_uncompressed_bytes,
        max_compression_ratio=limits.docx_max_compression_ratio,
        max_entries=limits.docx_max_entries,
    )
    if media_type is MediaType.DOCX:
        return extract_docx_text(data, caps)
    if media_type is MediaType.ODT:
        return extract_odt_text(data, caps)
    if media_type is MediaType.RTF:
        return extract_rtf_text(data)
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
    if media_type is MediaType.MARKDOWN:
        return markdown_to_text(decode_text(data))
    return decode_text(data)
