"""Fuzzing detect and extract: any bytes under any name are an essay or a rejection with a stable code.

Bounded: a fixed number of examples, small caps (so no example can run long), PDFs read in process under
their own time cap. Seeds are real documents, mutated byte by byte, plus raw binary.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from els.errors import EssayRejectedError, RejectionCode
from essays.upload import ProcessedEssay, process_upload
from essays.validate import Limits
from tests.support.documents import make_docx, make_pdf

TEXT = "Glaciers move slowly but they shape whole continents, carving valleys and leaving lakes behind them."
SEEDS = [make_docx(TEXT), make_pdf(TEXT), TEXT.encode(), ("# Title\n\n" + TEXT).encode("utf-16")]
NAMES = st.sampled_from(["essay.txt", "essay.md", "essay.docx", "essay.pdf", "essay", "x.bin"])
LIMITS = Limits(
    max_upload_bytes=256 * 1024,
    docx_max_uncompressed_bytes=1024 * 1024,
    pdf_max_pages=5,
    pdf_max_seconds=2.0,
    pdf_max_page_content_bytes=64 * 1024,
    pdf_max_content_bytes=256 * 1024,
)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A seed document with a few bytes overwritten, cut short, or raw random bytes."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=4096))
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, len(data) - 1))
        data[position] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


def assert_bounded(data: bytes, filename: str) -> None:
    try:
        essay = process_upload(data, filename, LIMITS)
    except EssayRejectedError as rejection:
        assert rejection.code in RejectionCode.__members__
        return
    assert isinstance(essay, ProcessedEssay)
    assert LIMITS.min_words <= essay.metrics.words <= LIMITS.max_words


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=mutated(), filename=NAMES)
def test_any_upload_is_an_essay_or_a_rejection_with_a_stable_code(data: bytes, filename: str) -> None:
    assert_bounded(data, filename)
