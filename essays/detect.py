"""What an upload is: by magic bytes first, then by extension.

Rules, in order:
1. `%PDF-` at the start is a PDF.
2. `{\rtf` at the start is an RTF document.
3. A ZIP archive is a .docx when its central directory lists `word/document.xml`, and an .odt when it
   lists `content.xml` and its `mimetype` member names an OpenDocument text; any other archive (an
   OpenDocument spreadsheet included) is UNSUPPORTED_TYPE, and an unreadable one named `.docx` or `.odt`
   is TEXT_EXTRACTION_FAILED (a damaged document).
4. Known binary formats (images, legacy .doc, other archives, executables) are UNSUPPORTED_TYPE.
5. With no magic, `.txt`/`.text` (or no extension) is plain text and `.md`/`.markdown` is Markdown,
   provided the bytes decode as text; binary data and every other extension are UNSUPPORTED_TYPE.
"""

from __future__ import annotations

import io
import zipfile
from enum import StrEnum
from pathlib import PurePosixPath

from els.errors import EssayRejectedError, RejectionCode
from essays.archive import UNREADABLE, inflate_within_declared_size
from essays.text_decoding import looks_like_text


class MediaType(StrEnum):
    """The upload types ELS extracts text from."""

    TEXT = "text/plain"
    MARKDOWN = "text/markdown"
    DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ODT = "application/vnd.oasis.opendocument.text"
    RTF = "application/rtf"
    PDF = "application/pdf"


DOCX_MAIN_PART = "word/document.xml"
ODT_MIMETYPE_PART = "mimetype"
ODT_CONTENT_PART = "content.xml"
# The `mimetype` member of an OpenDocument is its media type, a few dozen bytes; more is not one.
_MAX_MIMETYPE_BYTES = 128

_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")

_BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Office document (.doc)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7z archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x7fELF", "an executable"),
)

_TEXT_EXTENSIONS: dict[str, MediaType] = {
    "": MediaType.TEXT,
    ".txt": MediaType.TEXT,
    ".text": MediaType.TEXT,
    ".md": MediaType.MARKDOWN,
    ".markdown": MediaType.MARKDOWN,
}


def detect_media_type(data: bytes, filename: str) -> MediaType:
    """The media type of an upload; raises EssayRejectedError (UNSUPPORTED_TYPE) for anything else."""
    extension = file_extension(filename)
    if data.startswith(b"%PDF-"):
        return MediaType.PDF
    if data.startswith(b"{\\rtf"):
        return MediaType.RTF
    if data.startswith(_ZIP_SIGNATURES):
        return _detect_archive(data, extension)
    for signature, description in _BINARY_SIGNATURES:
        if data.startswith(signature):
            raise _unsupported(f"the file is {description}, not an essay document", extension)
    if data[8:12] == b"WEBP" and data.startswith(b"RIFF"):
        raise _unsupported("the file is a WebP image, not an essay document", extension)
    media_type = _TEXT_EXTENSIONS.get(extension)
    if media_type is None:
        raise _unsupported(
            f"'{extension}' files are not supported; send .txt, .md, .docx, .odt, .rtf or .pdf", extension
        )
    if not looks_like_text(data):
        raise _unsupported("the file holds binary data, not text", extension)
    return media_type


def file_extension(filename: str) -> str:
    """The lower-cased extension of a file name sent by any client (Windows paths included)."""
    return PurePosixPath(filename.replace("\\", "/")).suffix.lower()


def _detect_archive(data: bytes, extension: str) -> MediaType:
    try:
        # Reads only the central directory; nothing is decompressed here.
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if DOCX_MAIN_PART in names:
                return MediaType.DOCX
            if ODT_CONTENT_PART in names and _opendocument_type(archive) == MediaType.ODT.value:
                return MediaType.ODT
    except (*UNREADABLE, zipfile.LargeZipFile, OSError) as error:
        if extension in {".docx", ".odt"}:
            raise EssayRejectedError(
                RejectionCode.TEXT_EXTRACTION_FAILED,
                f"the {extension} file is damaged: {error}",
                details={"reason": "corrupt"},
            ) from error
        raise _unsupported("the file is an unreadable archive", extension) from error
    raise _unsupported("the file is a ZIP archive, not a Word (.docx) or OpenDocument (.odt) text", extension)


def _opendocument_type(archive: zipfile.ZipFile) -> str:
    """The media type an OpenDocument's `mimetype` member declares ("" when it has none to read)."""
    try:
        entry = archive.getinfo(ODT_MIMETYPE_PART)
    except KeyError:
        return ""
    if entry.file_size > _MAX_MIMETYPE_BYTES:
        return ""
    declared = b"".join(inflate_within_declared_size(archive, entry, kind="OpenDocument"))
    return declared.decode("ascii", errors="replace").strip()


def _unsupported(message: str, extension: str) -> EssayRejectedError:
    return EssayRejectedError(RejectionCode.UNSUPPORTED_TYPE, message, details={"extension": extension})
