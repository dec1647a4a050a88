"""Text of a .docx upload: the archive guards of `essays.archive`, then a bounded read of the body.

`word/document.xml` is inflated a chunk at a time and refused past its declared size
(`essays.archive.inflate_within_declared_size`); the XML is walked as it arrives (`essays.docx_body`),
with DOCTYPEs refused.
"""

from __future__ import annotations

import io
import zipfile

from essays.archive import UNREADABLE, ArchiveCaps, check_archive, corrupt, inflate_within_declared_size
from essays.detect import DOCX_MAIN_PART
from essays.docx_body import read_body_text

__all__ = ["ArchiveCaps", "check_archive", "extract_docx_text"]


def extract_docx_text(data: bytes, caps: ArchiveCaps) -> str:
    """Body text of a .docx, paragraphs separated by blank lines and table rows by line breaks."""
    check_archive(data, caps)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return read_body_text(inflate_within_declared_size(archive, archive.getinfo(DOCX_MAIN_PART)))
    except UNREADABLE as error:
        raise corrupt(error) from error
