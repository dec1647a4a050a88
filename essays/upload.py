"""The one entry point from an uploaded file to an accepted essay, or a rejection with a stable code."""

from __future__ import annotations

from dataclasses import dataclass

from els.jsontypes import JsonObject
from essays.detect import MediaType, detect_media_type
from essays.extract import PdfReader, extract_text
from essays.metrics import TextMetrics, measure_text
from essays.normalise import content_hash, normalise
from essays.pdf_extraction import extract_pdf_text
from essays.validate import Limits, check_upload_size, check_word_count


@dataclass(frozen=True)
class ProcessedEssay:
    """An accepted essay: its normalised text, that text's sha256 hex, its media type and counts."""

    text: str
    content_hash: str
    media_type: MediaType
    metrics: TextMetrics

    def to_json(self) -> JsonObject:
        """Everything about the essay as a JSON object (the text included)."""
        return {
            "text": self.text,
            "content_hash": self.content_hash,
            "media_type": self.media_type.value,
            "metrics": self.metrics.to_json(),
        }


def process_upload(
    data: bytes, filename: str, limits: Limits, pdf_text: PdfReader = extract_pdf_text
) -> ProcessedEssay:
    """Detect, extract, normalise, hash, count and validate one upload; raises EssayRejectedError.

    `pdf_text` reads PDFs (see `essays.extract.extract_text`).
    """
    check_upload_size(len(data), limits)
    media_type = detect_media_type(data, filename)
    text = normalise(extract_text(data, media_type, limits, pdf_text))
    metrics = measure_text(text)
    check_word_count(metrics.words, limits)
    return ProcessedEssay(text=text, content_hash=content_hash(text), media_type=media_type, metrics=metrics)
