"""Builders of real documents for tests: well-formed, encrypted, corrupt and hostile ones.

Every builder returns bytes and is deterministic. The costly zip bomb is built once per process.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from collections.abc import Sequence
from functools import cache
from xml.sax.saxutils import escape

import docx
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

MIB = 1024 * 1024


def make_docx(text: str, *, table: Sequence[Sequence[str]] = ()) -> bytes:
    """A .docx with one paragraph per blank-line block of `text` (single newlines become breaks)."""
    document = docx.Document()
    for block in text.split("\n\n"):
        document.add_paragraph(block)
    if table:
        grid = document.add_table(rows=len(table), cols=max(len(row) for row in table))
        for row_cells, row in zip(grid.rows, table, strict=True):
            for cell, value in zip(row_cells.cells, row, strict=False):
                cell.text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_pdf(text: str, *, pages: int = 1) -> bytes:
    """A PDF with `text` (Windows-1252 characters only) from page 1, padded with blank pages to `pages`."""
    pdf = FPDF()
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    for block in text.split("\n\n"):
        pdf.multi_cell(0, 6, block)
        pdf.ln(6)
    while pdf.page_no() < pages:
        pdf.add_page()
    return bytes(pdf.output())


def make_encrypted_pdf(text: str, *, user_password: str = "secret") -> bytes:
    """`make_pdf(text)` encrypted with RC4-128; an empty `user_password` restricts only the owner."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(text))))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def make_corrupt_pdf() -> bytes:
    """A PDF cut in half: the right magic, no cross-reference table, no end."""
    whole = make_pdf("This document was cut short in transfer and cannot be read.")
    return whole[: len(whole) // 2]


def make_corrupt_docx() -> bytes:
    """A well-formed archive whose `word/document.xml` is not XML."""
    return _rebuild_docx(make_docx("A sound paragraph."), {"word/document.xml": b"<w:document><unclosed"})


@cache
def make_zip_bomb_docx(inflated_bytes: int = 64 * MIB, text: str = "An innocent first paragraph.") -> bytes:
    """A .docx of `text` whose `word/document.xml` inflates to `inflated_bytes` from about 1/1000 of that."""
    original = make_docx(text)
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(original)) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb,
    ):
        for entry in source.infolist():
            content = source.read(entry.filename)
            if entry.filename != "word/document.xml":
                bomb.writestr(entry.filename, content)
                continue
            with bomb.open("word/document.xml", "w") as stream:
                stream.write(content)
                # Whitespace after the root element keeps the XML well-formed.
                padding = inflated_bytes - len(content)
                chunk = b" " * MIB
                while padding > 0:
                    stream.write(chunk[: min(padding, MIB)])
                    padding -= MIB
    return buffer.getvalue()


def make_damaged_docx() -> bytes:
    """A .docx whose central directory is intact but whose `word/document.xml` data is overwritten."""
    data = bytearray(make_docx("A paragraph long enough to be compressed into a deflate stream. " * 20))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        entry = archive.getinfo("word/document.xml")
    name_length, extra_length = struct.unpack_from("<HH", data, entry.header_offset + 26)
    start = entry.header_offset + 30 + name_length + extra_length
    data[start + 10 : start + 60] = b"\xff" * 50
    return bytes(data)


def make_docx_declaring_size(declared_bytes: int) -> bytes:
    """A small .docx whose central directory claims `word/document.xml` inflates to `declared_bytes`.

    Its data is unchanged, so a reader that inflated it would fail on size and CRC instead: a guard
    that rejects it for size decided on the central directory alone.
    """
    data = bytearray(make_docx("A document that lies about its size."))
    name = b"word/document.xml"
    offset = data.find(b"PK\x01\x02")
    while offset != -1:
        name_length = struct.unpack_from("<H", data, offset + 28)[0]
        if data[offset + 46 : offset + 46 + name_length] == name:
            struct.pack_into("<I", data, offset + 24, declared_bytes)
            return bytes(data)
        offset = data.find(b"PK\x01\x02", offset + 4)
    raise AssertionError("the .docx has no word/document.xml")


def make_docx_with_entries(extra_entries: int) -> bytes:
    """A valid .docx carrying `extra_entries` more tiny archive entries."""
    extra = {f"customXml/item{index}.xml": b"<a/>" for index in range(extra_entries)}
    return _rebuild_docx(make_docx("A document with many parts."), extra)


def make_non_docx_zip() -> bytes:
    """A ZIP archive of text files: a real archive, not a Word document."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("essay.txt", "An essay inside an archive.")
    return buffer.getvalue()


def random_binary(size: int, seed: int = 7) -> bytes:
    """`size` bytes of seeded random data that do not begin with any magic number or byte-order mark."""
    generator = random.Random(seed)
    # A leading 0x80 is no magic number, no BOM and not valid UTF-8.
    return b"\x80" + generator.randbytes(size - 1)


def _rebuild_docx(original: bytes, replacements: dict[str, bytes]) -> bytes:
    pending = dict(replacements)
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(original)) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            target.writestr(entry.filename, pending.pop(entry.filename, source.read(entry.filename)))
        for filename, content in pending.items():
            target.writestr(filename, content)
    return buffer.getvalue()


def make_docx_with_body(document_xml: bytes) -> bytes:
    """A valid .docx whose `word/document.xml` is replaced by `document_xml`."""
    return _rebuild_docx(make_docx("A placeholder body."), {"word/document.xml": document_xml})


@cache
def make_docx_lying_about_size(inflated_bytes: int) -> bytes:
    """A .docx whose `word/document.xml` really inflates to `inflated_bytes`, most of it padding after the
    root element, while its central directory and local header declare only the real document's size and
    CRC: a reader that trusts the declaration and cuts the member there finds a sound document.
    """
    text = "A document hiding a gigabyte."
    with zipfile.ZipFile(io.BytesIO(make_docx(text))) as honest:
        document = honest.read("word/document.xml")
    bomb = make_zip_bomb_docx(inflated_bytes, text)
    data = bytearray(bomb)
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        entry = archive.getinfo("word/document.xml")
    assert data[entry.header_offset : entry.header_offset + 4] == b"PK\x03\x04"
    struct.pack_into("<II", data, entry.header_offset + 14, zlib.crc32(document), entry.compress_size)
    struct.pack_into("<I", data, entry.header_offset + 22, len(document))
    central = _central_directory_offset(data, b"word/document.xml")
    struct.pack_into("<II", data, central + 16, zlib.crc32(document), entry.compress_size)
    struct.pack_into("<I", data, central + 24, len(document))
    return bytes(data)


def _central_directory_offset(data: bytearray, name: bytes) -> int:
    offset = data.find(b"PK\x01\x02")
    while offset != -1:
        name_length = struct.unpack_from("<H", data, offset + 28)[0]
        if data[offset + 46 : offset + 46 + name_length] == name:
            return offset
        offset = data.find(b"PK\x01\x02", offset + 4)
    raise AssertionError(f"the archive has no {name.decode()}")


def make_pdf_with_content(page_contents: Sequence[bytes], *, form: bytes | None = None) -> bytes:
    """A PDF written byte by byte: one page per content stream (Flate-compressed), Helvetica as /F1 and,
    given `form`, a form XObject /X1 with that content that every page may draw (`/X1 Do`).
    """
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", font]
    xobjects = b""
    if form is not None:
        form_entries = (
            b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
        )
        objects.append(_flate_stream(form, form_entries))
        xobjects = f"/XObject << /X1 {len(objects)} 0 R >> ".encode()
    resources = b"<< /Font << /F1 3 0 R >> " + xobjects + b">>"
    kids: list[str] = []
    for content in page_contents:
        objects.append(_flate_stream(content))
        page = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {len(objects)} 0 R /Resources "
        )
        objects.append(page.encode() + resources + b" >>")
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>".encode()
    out = bytearray(b"%PDF-1.4\n")
    offsets: list[int] = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def text_operators(words: int) -> bytes:
    """A content stream showing `words` words, each with its own text operator."""
    return b"BT /F1 12 Tf 72 720 Td " + b"(word ) Tj " * words + b"ET"


def _flate_stream(content: bytes, entries: bytes = b"") -> bytes:
    data = zlib.compress(content, 9)
    header = b"<< " + entries + b"/Filter /FlateDecode /Length " + str(len(data)).encode() + b" >>"
    return header + b"\nstream\n" + data + b"\nendstream"


ODF_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
ODF_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    f'xmlns:text="{ODF_TEXT}" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/"'
)


def make_odt(body_xml: str, *, mimetype: str = "application/vnd.oasis.opendocument.text") -> bytes:
    """An OpenDocument archive whose `content.xml` body (inside `office:text`) is `body_xml`.

    Written as LibreOffice writes one: `mimetype` first and stored, then the content and a manifest.
    """
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<office:document-content {ODF_NAMESPACES} office:version="1.3">'
        f"<office:body><office:text>{body_xml}</office:text></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mimetype}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def odt_paragraphs(text: str) -> str:
    """`text`'s blank-line blocks as ODF paragraphs (XML special characters escaped)."""
    return "".join(f"<text:p>{escape(block)}</text:p>" for block in text.split("\n\n"))


def make_rtf(text: str) -> bytes:
    """An RTF document of `text` (its blank-line blocks as paragraphs), as word processors write it."""
    body = "\\par\n".join(
        block.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}") for block in text.split("\n\n")
    )
    escaped = "".join(ch if ord(ch) < 128 else f"\\u{ord(ch)}?" for ch in body)
    return (
        "{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\froman Times New Roman;}}"
        "{\\info{\\title An essay}}\\f0\\fs24 " + escaped + "\\par}"
    ).encode("ascii")
