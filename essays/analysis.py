"""Analysis of one accepted essay: spelling, readability, lexical diversity, sentence length."""

from __future__ import annotations

from dataclasses import dataclass

from els.errors import InvalidInputError
from els.jsontypes import JsonObject
from essays.language import LANGUAGE_MISMATCH, language_mismatch, load_model
from essays.lexical import mattr, mtld, type_token_ratio
from essays.readability import pronounced_syllables, readability_score
from essays.spelling import count_spelling_errors, load_dictionary, supported_language
from essays.tokens import sentences, words

# Measures are rounded so that reports are stable to read and to compare.
DECIMALS = 4


@dataclass(frozen=True)
class EssayAnalysis:
    """The measures of one essay; `readability` is None where its language has no formula."""

    language: str
    words: int
    sentences: int
    spelling_errors: int
    spelling_errors_per_100_words: float
    readability: float | None
    readability_formula: str | None
    type_token_ratio: float
    mtld: float
    mean_sentence_length: float
    mattr: float | None = None  # None in analyses recorded before ELS measured it
    # Set when the essay is confidently in another language than the batch's (essays/language.py).
    detected_language: str | None = None
    warnings: tuple[str, ...] = ()

    def to_json(self) -> JsonObject:
        """The measures as a JSON object, one key per field."""
        return {
            "language": self.language,
            "words": self.words,
            "sentences": self.sentences,
            "spelling_errors": self.spelling_errors,
            "spelling_errors_per_100_words": self.spelling_errors_per_100_words,
            "readability": self.readability,
            "readability_formula": self.readability_formula,
            "type_token_ratio": self.type_token_ratio,
            "mtld": self.mtld,
            "mean_sentence_length": self.mean_sentence_length,
            "mattr": self.mattr,
            "detected_language": self.detected_language,
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_json(cls, value: JsonObject) -> EssayAnalysis:
        """Parse `to_json` output back; INVALID_INPUT on any other shape."""
        missing = [name for name in _FIELD_NAMES if name not in value]
        if missing:
            raise InvalidInputError(f"an essay analysis lacks {', '.join(missing)}")
        readability = value["readability"]
        formula = value["readability_formula"]
        moving = value.get("mattr")
        detected = value.get("detected_language")
        return cls(
            language=_string(value, "language"),
            words=_count(value, "words"),
            sentences=_count(value, "sentences"),
            spelling_errors=_count(value, "spelling_errors"),
            spelling_errors_per_100_words=_number(value, "spelling_errors_per_100_words"),
            readability=None if readability is None else _number(value, "readability"),
            readability_formula=None if formula is None else _string(value, "readability_formula"),
            type_token_ratio=_number(value, "type_token_ratio"),
            mtld=_number(value, "mtld"),
            mean_sentence_length=_number(value, "mean_sentence_length"),
            mattr=None if moving is None else _number(value, "mattr"),
            detected_language=None if detected is None else _string(value, "detected_language"),
            warnings=_warnings(value),
        )


# The fields `from_json` requires, in order (`mattr` may be absent: analyses recorded before it).
_FIELD_NAMES = (
    "language",
    "words",
    "sentences",
    "spelling_errors",
    "spelling_errors_per_100_words",
    "readability",
    "readability_formula",
    "type_token_ratio",
    "mtld",
    "mean_sentence_length",
)


def preload(language: str) -> None:
    """Read what analysis needs for `language` now (its dictionary, CMUdict, the language model:
    about 0.8 s), so that no essay pays for it; raises UnsupportedLanguageError."""
    load_dictionary(language)
    pronounced_syllables()
    load_model()


def analyse_text(text: str, language: str) -> EssayAnalysis:
    """Measure a normalised essay in the batch's language; raises UnsupportedLanguageError. An essay
    confidently in another language is measured all the same, with the warning LANGUAGE_MISMATCH."""
    primary = supported_language(language)
    tokens = words(text)
    mismatch = language_mismatch(text, len(tokens), language)
    sentence_count = len(sentences(text))
    folded = [token.casefold() for token in tokens]
    errors = count_spelling_errors(tokens, language)  # the tag: its region picks the English dialect
    readability, formula = readability_score(tokens, sentence_count, primary)
    return EssayAnalysis(
        language=primary,
        words=len(tokens),
        sentences=sentence_count,
        spelling_errors=errors,
        spelling_errors_per_100_words=round(100 * errors / len(tokens), DECIMALS) if tokens else 0.0,
        readability=None if readability is None else round(readability, DECIMALS),
        readability_formula=formula,
        type_token_ratio=round(type_token_ratio(folded), DECIMALS),
        mtld=round(mtld(folded), DECIMALS),
        mattr=round(mattr(folded), DECIMALS),
        mean_sentence_length=round(len(tokens) / sentence_count, DECIMALS) if sentence_count else 0.0,
        detected_language=None if mismatch is None else mismatch.language,
        warnings=() if mismatch is None else (LANGUAGE_MISMATCH,),
    )


def _warnings(value: JsonObject) -> tuple[str, ...]:
    items = value.get("warnings")
    if items is None:
        return ()  # analyses recorded before ELS gave warnings
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise InvalidInputError("'warnings' of an essay analysis must be a list of codes")
    return tuple(item for item in items if isinstance(item, str))


def _string(value: JsonObject, name: str) -> str:
    item = value[name]
    if not isinstance(item, str):
        raise InvalidInputError(f"'{name}' of an essay analysis must be a string")
    return item


def _count(value: JsonObject, name: str) -> int:
    item = value[name]
    if not isinstance(item, int) or isinstance(item, bool) or item < 0:
        raise InvalidInputError(f"'{name}' of an essay analysis must be a non-negative integer")
    return item


def _number(value: JsonObject, name: str) -> float:
    item = value[name]
    if not isinstance(item, int | float) or isinstance(item, bool):
        raise InvalidInputError(f"'{name}' of an essay analysis must be a number")
    return float(item)
