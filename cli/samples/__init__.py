"""The demo's sample uploads, shipped inside the package so `els demo` finds them when installed.

`files/` holds a dozen short essays in .txt, .md, .docx and .pdf, plus three that must not become
essays as they are: an empty file, a .docx repeating another essay's text, and a PNG image. The
binary files are generated from `sources/` by `uv run python -m cli.samples.generate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

SAMPLES_DIR = Path(__file__).parent / "files"
SOURCES_DIR = Path(__file__).parent / "sources"


class SampleKind(StrEnum):
    """What processing a sample is meant to show."""

    ESSAY = "essay"  # accepted as an essay
    EMPTY = "empty"  # rejected with EMPTY_CONTENT
    DUPLICATE = "duplicate"  # accepted, with the same content hash as `duplicate_of`
    UNSUPPORTED = "unsupported"  # rejected with UNSUPPORTED_TYPE


@dataclass(frozen=True)
class Sample:
    """One sample upload and what it is meant to show."""

    path: Path
    kind: SampleKind
    duplicate_of: str | None = None

    @property
    def filename(self) -> str:
        """The file's name, as a client would send it."""
        return self.path.name


_SPECIAL: dict[str, Sample] = {
    "empty.txt": Sample(SAMPLES_DIR / "empty.txt", SampleKind.EMPTY),
    "homework_copy.docx": Sample(
        SAMPLES_DIR / "homework_copy.docx", SampleKind.DUPLICATE, duplicate_of="homework.txt"
    ),
    "class_photo.png": Sample(SAMPLES_DIR / "class_photo.png", SampleKind.UNSUPPORTED),
}


def list_samples() -> tuple[Sample, ...]:
    """Every sample file, ordered by name."""
    paths = sorted(path for path in SAMPLES_DIR.iterdir() if path.is_file() and not path.name.startswith("."))
    return tuple(_SPECIAL.get(path.name, Sample(path, SampleKind.ESSAY)) for path in paths)
