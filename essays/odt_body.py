"""The text of an OpenDocument text body (`content.xml` of an .odt), walked as the XML streams in.

As for .docx (`essays.docx_body`), the walk keeps no tree and refuses a DOCTYPE. What counts:

- paragraphs and headings (`text:p`, `text:h`) in reading order, with `text:s` as its count of spaces,
  `text:tab` as a tab and `text:line-break` as a line break; list items and table cells through the
  paragraphs inside them;
- text boxes (`draw:text-box`): their paragraphs follow the paragraph they are anchored in;
- tracked changes as accepted: the deleted text ODF keeps in `text:tracked-changes` is dropped, while
  insertions are already in the body;
- dropped as well: notes (`text:note`, footnotes and endnotes, as Word keeps them in other parts),
  annotations (comments) and the document's field declarations.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field

from els.errors import EssayRejectedError, RejectionCode

_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"

MAX_XML_DEPTH = 256
# `text:s c="N"` stands for N spaces; a hostile count must not become a megabyte of them.
MAX_SPACES = 64

_PARAGRAPHS = frozenset({f"{_TEXT}p", f"{_TEXT}h"})
_DROPPED = frozenset(
    {
        f"{_TEXT}tracked-changes",
        f"{_TEXT}note",
        f"{_OFFICE}annotation",
        f"{_TEXT}variable-decls",
        f"{_TEXT}sequence-decls",
        f"{_TEXT}user-field-decls",
    }
)
_CHARACTERS = {f"{_TEXT}tab": "\t", f"{_TEXT}line-break": "\n"}


@dataclass
class _Paragraph:
    parts: list[str] = field(default_factory=list)
    # Paragraphs of the text boxes anchored in this one, which follow it.
    anchored: list[str] = field(default_factory=list)


@dataclass
class _ContentWalk:
    """An expat target that collects the paragraphs of an ODF text body."""

    blocks: list[str] = field(default_factory=list)
    depth: int = 0
    dropping: int = 0
    paragraphs: list[_Paragraph] = field(default_factory=list)

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        """An element opens: a paragraph, a character stand-in, or something dropped with its content."""
        self.depth += 1
        if self.depth > MAX_XML_DEPTH:
            raise EssayRejectedError(
                RejectionCode.TEXT_EXTRACTION_FAILED,
                f"the .odt file is refused: its XML nests deeper than {MAX_XML_DEPTH} elements",
                details={"reason": "xml_depth", "maximum": MAX_XML_DEPTH},
            )
        if self.dropping or tag in _DROPPED:
            self.dropping += 1
        elif tag in _PARAGRAPHS:
            self.paragraphs.append(_Paragraph())
        elif self.paragraphs and tag in _CHARACTERS:
            self.paragraphs[-1].parts.append(_CHARACTERS[tag])
        elif self.paragraphs and tag == f"{_TEXT}s":
            self.paragraphs[-1].parts.append(" " * _space_count(attrib.get(f"{_TEXT}c", "1")))

    def end(self, tag: str) -> None:
        """An element closes: a finished paragraph goes to the body, or after the one it is anchored in."""
        self.depth -= 1
        if self.dropping:
            self.dropping -= 1
            return
        if tag not in _PARAGRAPHS or not self.paragraphs:
            return
        paragraph = self.paragraphs.pop()
        finished = ["".join(paragraph.parts), *paragraph.anchored]
        if self.paragraphs:
            self.paragraphs[-1].anchored.extend(finished)
        else:
            self.blocks.extend(finished)

    def data(self, text: str) -> None:
        """Character data: kept inside a paragraph, outside anything dropped."""
        if self.paragraphs and not self.dropping:
            self.paragraphs[-1].parts.append(text)

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        """A DOCTYPE: refused before its declarations are read."""
        del pubid, system
        raise EssayRejectedError(
            RejectionCode.TEXT_EXTRACTION_FAILED,
            f"the .odt file is refused: its XML declares a DOCTYPE ({name}), which may define entities",
            details={"reason": "doctype"},
        )


def _space_count(value: str) -> int:
    return min(int(value), MAX_SPACES) if value.isdigit() else 1


def read_content_text(chunks: Iterable[bytes]) -> str:
    """Text of a `content.xml` fed in chunks: paragraphs separated by blank lines; raises ParseError."""
    walk = _ContentWalk()
    parser = ET.XMLParser(target=walk)  # noqa: S314 - DOCTYPEs are refused, see the module docstring
    for chunk in chunks:
        parser.feed(chunk)
    parser.close()
    return "\n\n".join(block for block in walk.blocks if block.strip())
