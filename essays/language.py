"""Which language an essay is written in, to warn when it is not the batch's (py3langid, BSD-3-Clause).

A warning, never a rejection: the essay is analysed against the batch's language as usual, and its
analysis carries `LANGUAGE_MISMATCH` so a teacher sees why, for example, its spelling errors are many.
Only a confident answer on a text long enough to judge counts: a short essay, or one the model is not
sure about, gets no warning. The model loads once per process, on first use (about 0.8 s).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from py3langid.langid import MODEL_FILE, LanguageIdentifier

LANGUAGE_MISMATCH = "LANGUAGE_MISMATCH"  # the warning's stable code
MIN_WORDS = 30  # fewer words than this: too little to judge
MIN_CONFIDENCE = 0.9  # the model's normalised probability of its answer
MAX_CHARS = 20_000  # the language is judged on the first this many characters

_lock = threading.Lock()
_identifier: list[LanguageIdentifier] = []


@dataclass(frozen=True)
class DetectedLanguage:
    """The model's answer (an ISO 639-1 code) and how sure it is, between 0 and 1."""

    language: str
    confidence: float


def detect_language(text: str) -> DetectedLanguage:
    """The language of `text`, judged on its first MAX_CHARS characters."""
    answer, confidence = _model().classify(text[:MAX_CHARS])
    return DetectedLanguage(answer, round(float(confidence), 4))


def language_mismatch(text: str, word_count: int, batch_language: str) -> DetectedLanguage | None:
    """The detected language when it confidently differs from the batch's tag ("en-GB" counts as "en"),
    else None."""
    if word_count < MIN_WORDS:
        return None
    detected = detect_language(text)
    expected = batch_language.split("-", 1)[0].lower()
    if detected.confidence < MIN_CONFIDENCE or detected.language == expected:
        return None
    return detected


def load_model() -> None:
    """Read the language model now (about 0.5 s) rather than on the first essay."""
    _model()


def _model() -> LanguageIdentifier:
    with _lock:
        if not _identifier:
            _identifier.append(LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True))
        return _identifier[0]
