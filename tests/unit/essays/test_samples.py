"""Every shipped sample is handled as intended, and the generated ones match their generator."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.samples import SAMPLES_DIR, Sample, SampleKind, list_samples
from cli.samples.generate import generate
from els.errors import EssayRejectedError
from essays.analysis import analyse_text
from essays.detect import MediaType
from essays.upload import process_upload
from essays.validate import Limits

SAMPLES = list_samples()
ESSAYS = [sample for sample in SAMPLES if sample.kind in (SampleKind.ESSAY, SampleKind.DUPLICATE)]


def test_a_dozen_essays_in_four_formats_and_three_special_files() -> None:
    kinds = [sample.kind for sample in SAMPLES]
    assert kinds.count(SampleKind.ESSAY) == 12
    assert {kind: kinds.count(kind) for kind in SampleKind if kind is not SampleKind.ESSAY} == {
        SampleKind.EMPTY: 1,
        SampleKind.DUPLICATE: 1,
        SampleKind.UNSUPPORTED: 1,
    }
    extensions = {sample.path.suffix for sample in SAMPLES if sample.kind is SampleKind.ESSAY}
    assert extensions == {".txt", ".md", ".docx", ".pdf"}


@pytest.mark.parametrize("sample", ESSAYS, ids=lambda sample: sample.filename)
def test_each_essay_is_accepted_with_80_to_250_words_and_analysed(sample: Sample) -> None:
    essay = process_upload(sample.path.read_bytes(), sample.filename, Limits())
    assert 80 <= essay.metrics.words <= 250
    analysis = analyse_text(essay.text, "en")
    assert analysis.readability is not None
    assert analysis.spelling_errors_per_100_words < 5


@pytest.mark.parametrize(
    ("kind", "code"),
    [(SampleKind.EMPTY, "EMPTY_CONTENT"), (SampleKind.UNSUPPORTED, "UNSUPPORTED_TYPE")],
)
def test_each_special_sample_is_rejected_with_its_code(kind: SampleKind, code: str) -> None:
    (sample,) = [sample for sample in SAMPLES if sample.kind is kind]
    with pytest.raises(EssayRejectedError) as raised:
        process_upload(sample.path.read_bytes(), sample.filename, Limits())
    assert raised.value.code == code


def test_the_duplicate_has_the_same_content_hash_in_another_format() -> None:
    (duplicate,) = [sample for sample in SAMPLES if sample.kind is SampleKind.DUPLICATE]
    assert duplicate.duplicate_of is not None
    original = SAMPLES_DIR / duplicate.duplicate_of
    copy = process_upload(duplicate.path.read_bytes(), duplicate.filename, Limits())
    source = process_upload(original.read_bytes(), original.name, Limits())
    assert copy.media_type is MediaType.DOCX
    assert source.media_type is MediaType.TEXT
    assert copy.content_hash == source.content_hash


def test_essays_other_than_the_duplicate_are_all_different() -> None:
    hashes = [
        process_upload(sample.path.read_bytes(), sample.filename, Limits()).content_hash
        for sample in SAMPLES
        if sample.kind is SampleKind.ESSAY
    ]
    assert len(set(hashes)) == 12


def test_committed_binary_samples_are_exactly_what_the_generator_writes(tmp_path: Path) -> None:
    for path in generate(tmp_path):
        assert path.read_bytes() == (SAMPLES_DIR / path.name).read_bytes(), path.name
