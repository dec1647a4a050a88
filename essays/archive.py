"""Office documents are ZIP archives: guards on the central directory, then bounded reads of members.

The guards decide on the sizes the central directory declares, and each read holds the archive to them:
a member is inflated a chunk at a time, its real output counted, and refused the moment it runs past its
declared size. zipfile itself inflates a whole member in one call when asked for all of it and only then
cuts it to the declared size, so a file lying about its sizes would cost a gigabyte before any check;
here the most one read can cost is one chunk. `kind` names the document in messages (".docx", ".odt").
"""

from __future__ import annotations

import copy
import io
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from els.errors import EssayRejectedError, RejectionCode

# Entries smaller than this are exempt from the per-entry ratio cap: a tiny XML part of repeated
# markup compresses far better than 100:1, and the total size cap already bounds them all.
RATIO_GRACE_BYTES = 1024 * 1024

# Inflated output is handed on in pieces of this size, so one read never costs more.
READ_CHUNK_BYTES = 64 * 1024

# Damaged deflate data surfaces from zipfile as BadZipFile (CRC), zlib.error or EOFError; an encrypted
# member as RuntimeError, an unknown compression method as NotImplementedError; bad XML as ParseError.
UNREADABLE = (
    ET.ParseError,
    KeyError,
    ValueError,
    RuntimeError,
    NotImplementedError,
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


def check_archive(data: bytes, caps: ArchiveCaps, kind: str = ".docx") -> None:
    """Reject an archive over any cap (TEXT_EXTRACTION_FAILED), reading only its central directory."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise corrupt(error, kind) from error
    if len(entries) > caps.max_entries:
        raise _unsafe(
            kind, "entry_count", f"the archive has {len(entries)} entries", len(entries), caps.max_entries
        )
    total = sum(entry.file_size for entry in entries)
    if total > caps.max_uncompressed_bytes:
        raise _unsafe(
            kind,
            "uncompressed_size",
            f"the archive inflates to {total} bytes",
            total,
            caps.max_uncompressed_bytes,
        )
    for entry in entries:
        ratio = entry.file_size // max(entry.compress_size, 1)
        if entry.file_size > RATIO_GRACE_BYTES and ratio > caps.max_compression_ratio:
            raise _unsafe(
                kind,
                "compression_ratio",
                f"'{entry.filename}' inflates {ratio} times",
                ratio,
                caps.max_compression_ratio,
            )
    compressed = max(sum(entry.compress_size for entry in entries), 1)
    if total > RATIO_GRACE_BYTES and total // compressed > caps.max_compression_ratio:
        raise _unsafe(
            kind,
            "compression_ratio",
            f"the archive inflates {total // compressed} times",
            total // compressed,
            caps.max_compression_ratio,
        )


def inflate_within_declared_size(
    archive: zipfile.ZipFile, entry: zipfile.ZipInfo, kind: str = ".docx"
) -> Iterator[bytes]:
    """The member's bytes a chunk at a time; refused once they run past the size the archive declares.

    The declared sizes passed `check_archive`, so holding each member to its own also holds the total
    to the cap. zipfile stops reading a member at its declared size, cutting a lying one short in
    silence (its CRC may be forged to match the cut), so the member is opened as one chunk longer: the
    chunk that crosses the declared size comes back whole, and is the proof of the lie.
    """
    declared = entry.file_size
    probe = copy.copy(entry)
    probe.file_size = declared + READ_CHUNK_BYTES + 1
    inflated = 0
    with archive.open(probe) as stream:
        while chunk := stream.read(READ_CHUNK_BYTES):
            inflated += len(chunk)
            if inflated > declared:
                raise EssayRejectedError(
                    RejectionCode.TEXT_EXTRACTION_FAILED,
                    f"the {kind} file is refused: '{entry.filename}' inflates past the {declared} bytes"
                    " its archive declares",
                    details={"reason": "declared_size", "part": entry.filename, "maximum": declared},
                )
            yield chunk


def corrupt(error: Exception, kind: str = ".docx") -> EssayRejectedError:
    """The rejection of a document that cannot be read."""
    return EssayRejectedError(
        RejectionCode.TEXT_EXTRACTION_FAILED,
        f"the {kind} file cannot be read: {error}",
        details={"reason": "corrupt"},
    )


def _unsafe(kind: str, reason: str, what: str, actual: int, maximum: int) -> EssayRejectedError:
    return EssayRejectedError(
        RejectionCode.TEXT_EXTRACTION_FAILED,
        f"the {kind} file is refused unread: {what}, over the cap of {maximum}",
        details={"reason": reason, "actual": actual, "maximum": maximum},
    )
