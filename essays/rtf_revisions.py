"""An RTF source made to read as the document shows: tracked deletions out, text boxes' text in.

striprtf reads RTF as a pre-2000 reader would, and two things a word processor writes come out wrong:

- **tracked deletions** (`\\deleted`, a character property scoped to its group, ended by `\\deleted0`)
  are printed as if they were still there; their text is dropped here (`\\plain` ends a deletion too,
  as it resets every character property), the control words kept;
- **text boxes** are shapes (`{\\shp{\\*\\shpinst ...{\\shptxt ...}}{\\shprslt ...}}`), an ignorable
  destination, so their text is lost; here a shape's properties and fallback picture (`\\shprslt`) go,
  and the text of its `\\shptxt` groups, a paragraph each, follows the paragraph the shape is anchored
  in (as for .docx and .odt), since a shape is written before its anchor's text.

The rewrite is one pass over the tokens, linear in the source, made only when the source holds a
`\\deleted` or a `\\shp`; everything else passes through as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum, auto

# A control word with its parameter and delimiting space, a hex escape, a control symbol, a brace, a run
# of text, or a backslash ending the source: the tokens striprtf reads too.
_TOKEN = re.compile(
    r"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?|\\'[0-9a-fA-F]{2}|\\[^a-zA-Z]|[{}]|[^\\{}]+|\\", re.DOTALL
)

# The control words this module acts on; a source without them passes through untouched.
_REWRITTEN = re.compile(r"\\(?:deleted|shp)(?![a-zA-Z])")


class _Mode(Enum):
    NORMAL = auto()
    # Inside a shape, outside its text: nothing is written.
    SHAPE = auto()
    # The text of a shape, written like the body.
    SHAPE_TEXT = auto()


@dataclass(slots=True)
class _Group:
    mode: _Mode
    deleted: bool
    # Whether this group's `{` was written, so its `}` must be too.
    written: bool
    pieces: int = 0


@dataclass
class _Rewrite:
    """The rewrite so far: the body written, text boxes' text held back, the open groups."""

    body: list[str] = field(default_factory=list)
    # Text boxes' text, held until the paragraph they are anchored in ends.
    boxes: list[str] = field(default_factory=list)
    groups: list[_Group] = field(default_factory=lambda: [_Group(_Mode.NORMAL, deleted=False, written=False)])

    def output(self) -> list[str]:
        """Where the current group's text goes."""
        return self.boxes if self.groups[-1].mode is _Mode.SHAPE_TEXT else self.body

    def open_group(self) -> None:
        """`{`: a group inherits its parent's mode and deletion; inside a shape it is not written."""
        parent = self.groups[-1]
        parent.pieces += 1
        written = parent.mode is not _Mode.SHAPE
        if written:
            self.output().append("{")
        self.groups.append(_Group(parent.mode, parent.deleted, written))

    def close_group(self) -> None:
        """`}`: a shape's text ends as a paragraph; at the document's end, held boxes come first."""
        if len(self.groups) == 1:
            return  # an unbalanced brace: nothing to close
        out = self.output()
        closed = self.groups.pop()
        if closed.mode is _Mode.SHAPE_TEXT and self.groups[-1].mode is _Mode.SHAPE:
            out.append("\\par ")
        if len(self.groups) == 1 and self.boxes:
            # The document ends: a box anchored in its last paragraph comes before the brace that
            # closes it (a reader stops there), a paragraph of its own.
            self.body.extend(["\\par ", *self.boxes])
            self.boxes.clear()
        if closed.written:
            out.append("}")

    def other(self, piece: str, word: str | None, parameter: str | None) -> None:
        """A control word or symbol, or a run of text."""
        group = self.groups[-1]
        first = group.pieces == 0
        group.pieces += 1
        if word == "shp" and first and group.mode is not _Mode.SHAPE:
            group.mode = _Mode.SHAPE
            return
        if word == "shptxt" and first and len(self.groups) > 1 and self.groups[-2].mode is _Mode.SHAPE:
            group.mode = _Mode.SHAPE_TEXT
            group.written = True
            self.boxes.append("{")
            return
        if word == "deleted":
            group.deleted = parameter != "0"
        elif word == "plain":
            # `\\plain` resets the character properties, `\\deleted` among them.
            group.deleted = False
        if group.mode is _Mode.SHAPE or (group.deleted and _writes_text(piece, word)):
            return
        out = self.output()
        out.append(piece)
        if word == "par" and out is self.body and self.boxes:
            self.body.extend(self.boxes)
            self.boxes.clear()


def visible_rtf(source: str) -> str:
    """`source` with tracked deletions' text dropped and each text box's text after its anchor paragraph."""
    if _REWRITTEN.search(source) is None:
        return source  # most RTF has neither, and is read without a second pass
    rewrite = _Rewrite()
    for match in _TOKEN.finditer(source):
        piece = match.group(0)
        if piece == "{":
            rewrite.open_group()
        elif piece == "}":
            rewrite.close_group()
        else:
            rewrite.other(piece, match.group(1), match.group(2))
    return "".join(rewrite.body + rewrite.boxes)


def _writes_text(piece: str, word: str | None) -> bool:
    """Whether a piece puts characters in the text: a run, an escape, a `\\uN` or a control symbol."""
    if word is not None:
        return word == "u"
    return piece != "\\*"
