"""Text of an .odt upload: the archive guards of `essays.archive`, then a bounded read of `content.xml`."""

from __future__ import annotations

import io
import zipfile

from essays.archive import UNREADABLE, ArchiveCaps, check_archive, corrupt, inflate_within_declared_size
from essays.detect import ODT_CONTENT_PART
from essays.odt_body import read_content_text


def extract_odt_text(data: bytes, caps: ArchiveCaps) -> str:
    """Body text of an OpenDocument text, paragraphs separated by blank lines."""
    check_archive(data, caps, kind=".odt")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entry = archive.getinfo(ODT_CONTENT_PART)
            return read_content_text(inflate_within_declared_size(archive, entry, kind=".odt"))
    except UNREADABLE as error:
        raise corrupt(error, ".odt") from error
