"""Counts of an essay's text: words, sentences, paragraphs and characters."""

from __future__ import annotations

from dataclasses import dataclass

from els.errors import InvalidInputError
from els.jsontypes import JsonObject
from essays.tokens import paragraphs, sentences, words


@dataclass(frozen=True)
class TextMetrics:
    """Counts of one normalised text (`characters` counts code points)."""

    words: int
    sentences: int
    paragraphs: int
    characters: int

    def to_json(self) -> JsonObject:
        """The counts as a JSON object."""
        return {
            "words": self.words,
            "sentences": self.sentences,
            "paragraphs": self.paragraphs,
            "characters": self.characters,
        }

    @classmethod
    def from_json(cls, value: JsonObject) -> TextMetrics:
        """Parse `to_json` output back; INVALID_INPUT on any other shape."""
        counts = {name: value.get(name) for name in ("words", "sentences", "paragraphs", "characters")}
        parsed: dict[str, int] = {}
        for name, count in counts.items():
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise InvalidInputError(f"text metrics need a non-negative integer '{name}'")
            parsed[name] = count
        return cls(
            words=parsed["words"],
            sentences=parsed["sentences"],
            paragraphs=parsed["paragraphs"],
            characters=parsed["characters"],
        )


def measure_text(text: str) -> TextMetrics:
    """Count the words, sentences, paragraphs and characters of a normalised text."""
    return TextMetrics(
        words=len(words(text)),
        sentences=len(sentences(text)),
        paragraphs=len(paragraphs(text)),
        characters=len(text),
    )
