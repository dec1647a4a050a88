"""The text of a .docx body (`word/document.xml`), walked element by element as the XML streams in.

The walk keeps no tree: a target of expat (through `xml.etree.ElementTree.XMLParser`) sees each element
start and end and keeps only the text so far, so memory follows the text, not the markup. What counts:

- paragraphs (`w:p`) in reading order, their text from `w:t`, with `w:tab`/`w:ptab` as a tab, `w:br`/`w:cr`
  as a line break and `w:noBreakHyphen` as a hyphen;
- tables (`w:tbl`): rows on their own lines, cells (`w:tc`) separated by tabs, a cell's paragraphs by
  line breaks;
- text boxes (`w:txbxContent`): their paragraphs follow the paragraph they are anchored in;
- content controls (`w:sdt`) through their content, unless it is showing placeholder text;
- tracked changes as accepted: insertions (`w:ins`, `w:moveTo`) kept, deletions (`w:del`, `w:moveFrom`)
  dropped;
- every other element is walked through for the text inside it, except those in `_DROPPED` (properties,
  field codes, the fallback copy of a drawing). Headers, footers, comments and notes are other parts.

A DOCTYPE is refused before any declaration in it is read: entities (external ones, or a billion laughs)
have no place in a Word document.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum, auto

from els.errors import EssayRejectedError, RejectionCode

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"

# Real documents nest a few dozen elements deep (a table in a text box in a table); a limit keeps the
# walk's own stacks small whatever the file holds.
MAX_XML_DEPTH = 256

_CHARACTERS = {
    f"{_W}tab": "\t",
    f"{_W}ptab": "\t",
    f"{_W}br": "\n",
    f"{_W}cr": "\n",
    f"{_W}noBreakHyphen": "-",
}

_DROPPED = frozenset(
    {
        f"{_W}del",
        f"{_W}moveFrom",
        f"{_W}delText",
        f"{_W}delInstrText",
        f"{_W}instrText",
        # Properties hold no text, but `w:pPr` lists tab stops as `w:tab` elements.
        f"{_W}pPr",
        f"{_W}rPr",
        f"{_W}tblPr",
        f"{_W}tblGrid",
        f"{_W}trPr",
        f"{_W}tcPr",
        f"{_W}sectPr",
        # Word writes a drawing twice, as DrawingML and as a VML fallback; the text is read once.
        f"{_MC}Fallback",
    }
)


class _Kind(Enum):
    """What an open element means to the walk; decided at its start, acted on at its end."""

    PARAGRAPH = auto()
    TABLE = auto()
    ROW = auto()
    CELL = auto()
    TEXT_BOX = auto()
    TEXT = auto()
    CONTENT_CONTROL = auto()
    DROPPED = auto()
    OTHER = auto()


@dataclass
class _Paragraph:
    parts: list[str] = field(default_factory=list)
    # Paragraphs of the text boxes anchored in this one, which follow it.
    anchored: list[str] = field(default_factory=list)


@dataclass
class _BodyWalk:
    """An expat target that collects the blocks of text of a WordprocessingML body."""

    body: list[str] = field(default_factory=list)
    open_elements: list[_Kind] = field(default_factory=list)
    dropping: int = 0
    paragraphs: list[_Paragraph] = field(default_factory=list)
    # Where a finished paragraph or table goes: the body, a table cell or a text box.
    containers: list[list[str]] = field(default_factory=list)
    tables: list[list[list[str]]] = field(default_factory=list)
    # One flag per open content control: is it showing its placeholder instead of content?
    placeholders: list[bool] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.containers.append(self.body)

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        """An element opens: decide what it is, and skip everything inside a dropped one."""
        del attrib
        if len(self.open_elements) >= MAX_XML_DEPTH:
            raise EssayRejectedError(
                RejectionCode.TEXT_EXTRACTION_FAILED,
                f"the .docx file is refused: its XML nests deeper than {MAX_XML_DEPTH} elements",
                details={"reason": "xml_depth", "maximum": MAX_XML_DEPTH},
            )
        kind = _Kind.DROPPED if self.dropping else self._open(tag)
        if kind is _Kind.DROPPED:
            self.dropping += 1
        self.open_elements.append(kind)

    def end(self, tag: str) -> None:
        """An element closes: a finished paragraph, cell, table or text box goes where it belongs."""
        del tag
        kind = self.open_elements.pop()
        if kind is _Kind.DROPPED:
            self.dropping -= 1
        elif kind is _Kind.PARAGRAPH:
            paragraph = self.paragraphs.pop()
            self.containers[-1].append("".join(paragraph.parts))
            self.containers[-1].extend(paragraph.anchored)
        elif kind is _Kind.TEXT_BOX:
            blocks = self.containers.pop()
            (self.paragraphs[-1].anchored if self.paragraphs else self.containers[-1]).extend(blocks)
        elif kind is _Kind.CELL:
            self.tables[-1][-1].append("\n".join(self.containers.pop()))
        elif kind is _Kind.TABLE:
            self.containers[-1].append("\n".join("\t".join(row) for row in self.tables.pop()))
        elif kind is _Kind.CONTENT_CONTROL:
            self.placeholders.pop()

    def data(self, text: str) -> None:
        """Character data: kept only inside a `w:t` of a paragraph."""
        if self.open_elements and self.open_elements[-1] is _Kind.TEXT and self.paragraphs:
            self.paragraphs[-1].parts.append(text)

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        """A DOCTYPE: refused before its declarations are read."""
        del pubid, system
        raise EssayRejectedError(
            RejectionCode.TEXT_EXTRACTION_FAILED,
            f"the .docx file is refused: its XML declares a DOCTYPE ({name}), which may define entities",
            details={"reason": "doctype"},
        )

    def _open(self, tag: str) -> _Kind:
        if tag in _DROPPED:
            return _Kind.DROPPED
        if tag == f"{_W}t":
            return _Kind.TEXT
        if tag in _CHARACTERS:
            if self.paragraphs:
                self.paragraphs[-1].parts.append(_CHARACTERS[tag])
            return _Kind.OTHER
        if tag == f"{_W}p":
            self.paragraphs.append(_Paragraph())
            return _Kind.PARAGRAPH
        if tag == f"{_W}tbl":
            self.tables.append([])
            return _Kind.TABLE
        if tag == f"{_W}tr" and self.tables:
            self.tables[-1].append([])
            return _Kind.ROW
        # A row or a cell may sit inside a content control; it belongs to the innermost open table.
        if tag == f"{_W}tc" and self.tables and self.tables[-1]:
            self.containers.append([])
            return _Kind.CELL
        if tag == f"{_W}txbxContent":
            self.containers.append([])
            return _Kind.TEXT_BOX
        return self._open_content_control(tag)

    def _open_content_control(self, tag: str) -> _Kind:
        if tag == f"{_W}sdt":
            self.placeholders.append(False)
            return _Kind.CONTENT_CONTROL
        if tag == f"{_W}showingPlcHdr" and self.placeholders:
            self.placeholders[-1] = True
        elif tag == f"{_W}sdtContent" and self.placeholders and self.placeholders[-1]:
            return _Kind.DROPPED
        return _Kind.OTHER


def read_body_text(chunks: Iterable[bytes]) -> str:
    """Text of a `word/document.xml` fed in chunks: blocks separated by blank lines; raises ParseError."""
    walk = _BodyWalk()
    parser = ET.XMLParser(target=walk)  # noqa: S314 - see the module docstring
    for chunk in chunks:
        parser.feed(chunk)
    parser.close()
    return "\n\n".join(walk.body)
