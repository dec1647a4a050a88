"""The prose of a Markdown essay: markup parsed away by markdown-it-py (CommonMark), text kept.

Headings, paragraphs, list items, quotes and table cells become blocks of text; a link or an image
counts by its visible text, never its URL; emphasis and inline code keep their words; fenced and
indented code blocks and raw HTML are dropped (they are not prose).
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.token import Token

_PARSER = MarkdownIt("commonmark").enable("table")

_DROPPED_BLOCKS = frozenset({"fence", "code_block", "html_block"})
_BREAKS = frozenset({"softbreak", "hardbreak"})


def markdown_to_text(source: str) -> str:
    """The visible text of Markdown `source`, one block per paragraph, blocks separated by blank lines."""
    blocks: list[str] = []
    for token in _PARSER.parse(source):
        if token.type in _DROPPED_BLOCKS:
            continue
        if token.type == "inline":
            text = _inline_text(token.children or [])
            if text.strip():
                blocks.append(text)
    return "\n\n".join(blocks)


def _inline_text(children: list[Token]) -> str:
    parts: list[str] = []
    for child in children:
        if child.type in {"text", "code_inline"}:
            parts.append(child.content)
        elif child.type in _BREAKS:
            parts.append("\n")
        elif child.type == "image":
            parts.append(_inline_text(child.children or []))
    return "".join(parts)
