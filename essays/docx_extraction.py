"""Text of a .docx upload, after zip-bomb guards that read only the archive's central directory.

The guards trust the sizes the central directory declares, and that is sound: `zipfile` (which
python-docx reads through) never inflates an entry past its declared size and fails the CRC check
instead. python-docx parses XML with entity resolution off, so entity expansion is no way around them.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import docx
from docx.opc.exceptions import OpcError
from docx.table import Table
from docx.text.paragraph import Paragraph

from els.errors import EssayRejectedError, RejectionCode

# Entries smaller than this are exempt from the per-entry ratio cap: a tiny XML part of repeated
# markup compresses far better than 100:1, and the total size cap already bounds them all.
RATIO_GRACE_BYTES = 1024 * 1024

# lxml's XMLSyntaxError is a SyntaxError; python-docx raises KeyError for a missing part; damaged
# deflate data surfaces from zipfile as BadZipFile (CRC), zlib.error or EOFError.
_UNREADABLE = (
    OpcError,
    KeyError,
    ValueError,
    AttributeError,
    SyntaxError,
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
)


@dataclass(frozen=True)
class ArchiveCaps:
    """The zip-bomb guards a .docx must pass before anything in it is decompressed."""

    max_uncompressed_bytes: int
    max_compression_ratio: int
    max_entries: int


def check_archive(data: bytes, caps: ArchiveCaps) -> None:
    """Reject an archive over any cap (TEXT_EXTRACTION_FAILED), reading only its central directory."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise _corrupt(error) from error
    if len(entries) > caps.max_entries:
        raise _unsafe(
            "entry_count", f"the archive has {len(entries)} entries", len(entries), caps.max_entries
        )
    total = sum(entry.file_size for entry in entries)
    if total > caps.max_uncompressed_bytes:
        raise _unsafe(
            "uncompressed_size", f"the archive inflates to {total} bytes", total, caps.max_uncompressed_bytes
        )
    for entry in entries:
        ratio = entry.file_size // max(entry.compress_size, 1)
        if entry.file_size > RATIO_GRACE_BYTES and ratio > caps.max_compression_ratio:
            raise _unsafe(
                "compression_ratio",
                f"'{entry.filename}' inflates {ratio} times",
                ratio,
                caps.max_compression_ratio,
            )
    compressed = max(sum(entry.compress_size for entry in entries), 1)
    if total > RATIO_GRACE_BYTES and total // compressed > caps.max_compression_ratio:
        raise _unsafe(
            "compression_ratio",
            f"the archive inflates {total // compressed} times",
            total // compressed,
            caps.max_compression_ratio,
        )


def extract_docx_text(data: bytes, caps: ArchiveCaps) -> str:
    """Body text of a .docx, paragraphs separated by blank lines and table rows by line breaks."""
    check_archive(data, caps)
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(_blocks(document.iter_inner_content()))
    except _UNREADABLE as error:
        raise _corrupt(error) from error
    return "\n\n".join(blocks)


def _blocks(content: Iterator[Paragraph | Table]) -> Iterator[str]:
    for block in content:
        if isinstance(block, Paragraph):
            yield block.text
        else:
            yield "\n".join(_row_texts(block))


def _row_texts(table: Table) -> Iterator[str]:
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            # A merged cell is listed once per grid column it spans.
            if not cells or cells[-1] != cell.text:
                cells.append(cell.text)
        yield "\t".join(cells)


def _corrupt(error: Exception) -> EssayRejectedError:
    return EssayRejectedError(
        RejectionCode.TEXT_EXTRACTION_FAILED,
        f"the .docx file cannot be read: {error}",
        details={"reason": "corrupt"},
    )


def _unsafe(reason: str, what: str, actual: int, maximum: int) -> EssayRejectedError:
    return EssayRejectedError(
        RejectionCode.TEXT_EXTRACTION_FAILED,
        f"the .docx file is refused unread: {what}, over the cap of {maximum}",
        details={"reason": reason, "actual": actual, "maximum": maximum},
    )
