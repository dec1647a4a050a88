"""Regenerate the binary samples: `uv run python -m cli.samples.generate` from the repository root.

.docx files come from python-docx and PDFs from fpdf2 (a development dependency, imported only here),
with fixed timestamps so that regenerating changes no byte. Texts live in `sources/` and `files/`.
"""

from __future__ import annotations

import datetime
import io
import struct
import zipfile
import zlib
from pathlib import Path

import docx

from cli.samples import SAMPLES_DIR, SOURCES_DIR

DOCX_ESSAYS = ("museum_trip", "healthy_lunches", "printing_press")
PDF_ESSAYS = ("photosynthesis", "online_learning")
DUPLICATE_SOURCE, DUPLICATE_TARGET = "homework.txt", "homework_copy.docx"
FIXED_TIME = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)


def docx_bytes(text: str) -> bytes:
    """A .docx with one paragraph per blank-line block, every archive entry dated FIXED_TIME."""
    document = docx.Document()
    document.core_properties.created = FIXED_TIME
    document.core_properties.modified = FIXED_TIME
    for block in text.split("\n\n"):
        document.add_paragraph(block)
    buffer = io.BytesIO()
    document.save(buffer)
    return _with_fixed_dates(buffer.getvalue())


def pdf_bytes(text: str) -> bytes:
    """A one-column A4 PDF of `text` in Helvetica (Windows-1252), created at FIXED_TIME."""
    from fpdf import FPDF  # noqa: PLC0415 - a development dependency, needed only to regenerate

    pdf = FPDF()
    pdf.set_creation_date(FIXED_TIME)
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    for block in text.split("\n\n"):
        pdf.multi_cell(0, 6, block)
        pdf.ln(6)
    return bytes(pdf.output())


def png_bytes() -> bytes:
    """A valid 1x1 grey PNG image."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x80")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def generate(target: Path = SAMPLES_DIR) -> list[Path]:
    """Write every generated sample into `target` and return their paths."""
    written: dict[Path, bytes] = {}
    for name in DOCX_ESSAYS:
        written[target / f"{name}.docx"] = docx_bytes(_source(name))
    for name in PDF_ESSAYS:
        written[target / f"{name}.pdf"] = pdf_bytes(_source(name))
    duplicate = (SAMPLES_DIR / DUPLICATE_SOURCE).read_text(encoding="utf-8")
    written[target / DUPLICATE_TARGET] = docx_bytes(duplicate)
    written[target / "class_photo.png"] = png_bytes()
    for path, content in written.items():
        path.write_bytes(content)
    return list(written)


def main() -> None:
    """Regenerate the samples and say which files were written."""
    for path in generate():
        print(f"wrote {path.relative_to(SAMPLES_DIR.parent)}")  # noqa: T201 - a command-line tool


def _source(name: str) -> str:
    return (SOURCES_DIR / f"{name}.txt").read_text(encoding="utf-8")


def _with_fixed_dates(archive: bytes) -> bytes:
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(archive)) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=(2024, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, source.read(entry.filename))
    return buffer.getvalue()


if __name__ == "__main__":
    main()
