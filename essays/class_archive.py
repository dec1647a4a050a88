"""A class's essays sent as one ZIP: which members are essays, which are skipped, and why.

The archive passes the guards of `essays.archive` on its central directory first (member count, total
uncompressed size, compression ratio), so nothing is inflated from an archive over a cap. Then each
entry is judged by its name and attributes alone:

- directories are structure, not members;
- system clutter (`__MACOSX/`, `.DS_Store`, `Thumbs.db`, `desktop.ini`) and hidden files (a name part
  starting with ".") are skipped as `hidden`;
- symbolic links are skipped as `symlink`, absolute paths and `..` parts as `unsafe_path`;
- a member declared larger than one upload may be is skipped as `too_large`, unread;
- a member that is itself an archive (ZIP, gzip, 7z, RAR, tar) is skipped as `nested_archive`; a .docx
  or .odt is a ZIP too, and is kept.

What remains is read with the bounded inflate, its path inside the archive as its filename.
"""

from __future__ import annotations

import io
import stat
import zipfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath

from essays.archive import UNREADABLE, ArchiveCaps, check_archive, corrupt, inflate_within_declared_size
from essays.detect import DOCX_MAIN_PART, ODT_CONTENT_PART, file_extension

_SYSTEM_NAMES = frozenset({"__macosx", ".ds_store", "thumbs.db", "desktop.ini"})
_ARCHIVE_EXTENSIONS = frozenset({".zip", ".gz", ".tgz", ".tar", ".7z", ".rar", ".bz2", ".xz"})
_ARCHIVE_MAGIC = (b"PK\x03\x04", b"\x1f\x8b", b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07", b"BZh", b"\xfd7zXZ")


class SkipReason(StrEnum):
    """Why a member of a class archive is not an essay (stable; part of the upload response)."""

    HIDDEN = "hidden"
    SYMLINK = "symlink"
    UNSAFE_PATH = "unsafe_path"
    TOO_LARGE = "too_large"
    NESTED_ARCHIVE = "nested_archive"


@dataclass(frozen=True)
class ArchiveMember:
    """One essay file of the archive: its path inside it and its bytes."""

    name: str
    data: bytes


@dataclass(frozen=True)
class SkippedMember:
    """A member left out, with its reason."""

    name: str
    reason: SkipReason


@dataclass(frozen=True)
class ClassArchive:
    """The members of a class archive that are essay files, in archive order, and those skipped."""

    members: list[ArchiveMember]
    skipped: list[SkippedMember]


def open_class_archive(data: bytes, caps: ArchiveCaps, max_member_bytes: int) -> ClassArchive:
    """The essay files of a ZIP archive; raises EssayRejectedError for an archive over a cap or damaged."""
    check_archive(data, caps, kind=".zip")
    members: list[ArchiveMember] = []
    skipped: list[SkippedMember] = []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for entry in archive.infolist():
                if entry.is_dir():
                    continue
                reason = _skip_reason(entry, max_member_bytes)
                if reason is None:
                    content = b"".join(inflate_within_declared_size(archive, entry, kind=".zip"))
                    reason = SkipReason.NESTED_ARCHIVE if _is_archive(entry.filename, content) else None
                    if reason is None:
                        members.append(ArchiveMember(entry.filename, content))
                        continue
                skipped.append(SkippedMember(entry.filename, reason))
    except UNREADABLE as error:
        raise corrupt(error, ".zip") from error
    return ClassArchive(members, skipped)


def _skip_reason(entry: zipfile.ZipInfo, max_member_bytes: int) -> SkipReason | None:
    path = PurePosixPath(entry.filename.replace("\\", "/"))
    if any(
        part.lower() in _SYSTEM_NAMES or (part.startswith(".") and part not in {".", ".."})
        for part in path.parts
    ):
        return SkipReason.HIDDEN
    if stat.S_ISLNK(entry.external_attr >> 16):
        return SkipReason.SYMLINK
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        return SkipReason.UNSAFE_PATH
    if entry.file_size > max_member_bytes:
        return SkipReason.TOO_LARGE
    return None


def _is_archive(name: str, content: bytes) -> bool:
    if not content.startswith(_ARCHIVE_MAGIC) and file_extension(name) not in _ARCHIVE_EXTENSIONS:
        return False
    if content.startswith(b"PK\x03\x04"):
        return not _is_office_document(content)
    return True


def _is_office_document(content: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as inner:
            names = set(inner.namelist())
    except (*UNREADABLE, zipfile.LargeZipFile, OSError):
        return False
    return DOCX_MAIN_PART in names or ODT_CONTENT_PART in names
