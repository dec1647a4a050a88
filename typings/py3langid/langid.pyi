# The part of py3langid ELS calls, typed as its source defines it (the package ships no annotations).
from pathlib import Path

MODEL_FILE: str

class LanguageIdentifier:
    @classmethod
    def from_model_file(
        cls, model_file: str | Path, norm_probs: bool = ..., min_confidence: float | None = ...
    ) -> LanguageIdentifier: ...
    def classify(self, text: str) -> tuple[str, float]: ...
