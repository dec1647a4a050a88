"""The fidelity corpus (tests/fixtures/documents): every document reads as a reader sees it, or is refused.

The documents were written by LibreOffice, python-docx, pypdf and Pillow; `manifest.json` gives each one's
ground truth or expected rejection, and `bench/fidelity.py` reports the same figures.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from bench.fidelity import CORPUS, TARGET, comparable_words, extract, load_manifest, rejection_code, score
from essays.analysis import analyse_text

MANIFEST = load_manifest()
READABLE = [entry for entry in MANIFEST if "truth" in entry]
REFUSED = [entry for entry in MANIFEST if "rejection" in entry]


def name(entry: dict[str, object]) -> str:
    return str(entry["file"])


def words_of(filename: str) -> set[str]:
    return set(comparable_words(extract(CORPUS / filename)))


def test_the_manifest_lists_every_document_and_each_has_a_truth_or_a_rejection() -> None:
    listed = {name(entry) for entry in MANIFEST}
    on_disk = {
        path.name for path in CORPUS.iterdir() if path.is_file() and path.suffix not in {".py", ".json"}
    }
    assert listed == on_disk
    for entry in MANIFEST:
        assert ("truth" in entry) != ("rejection" in entry), entry
    formats = {Path(name(entry)).suffix for entry in READABLE}
    assert formats == {".txt", ".md", ".docx", ".odt", ".rtf", ".pdf"}


def test_the_corpus_stays_small() -> None:
    assert sum(path.stat().st_size for path in CORPUS.iterdir() if path.is_file()) < 1024 * 1024


@pytest.mark.parametrize("entry", READABLE, ids=name)
def test_each_born_digital_document_reaches_the_recall_and_precision_target(entry: dict[str, object]) -> None:
    truth = (CORPUS / str(entry["truth"])).read_text(encoding="utf-8")
    result = score(truth, extract(CORPUS / name(entry)))
    assert result.recall >= TARGET
    assert result.precision >= TARGET
    # Text boxes after their anchor, two-column pages column by column: the reading order holds too.
    assert result.in_order / result.truth_words >= TARGET


@pytest.mark.parametrize("entry", REFUSED, ids=name)
def test_scanned_and_encrypted_pdfs_are_refused_with_their_codes(entry: dict[str, object]) -> None:
    assert rejection_code(CORPUS / name(entry)) == entry["rejection"]


def test_the_rejections_are_a_scan_and_a_password() -> None:
    assert {name(entry): entry["rejection"] for entry in REFUSED} == {
        "scanned.pdf": "NO_TEXT_LAYER",
        "encrypted.pdf": "ENCRYPTED_FILE",
    }


@pytest.mark.parametrize("filename", ["features.docx", "features.odt", "features.rtf"])
def test_deletions_footnotes_comments_and_headers_are_left_out_and_text_boxes_kept(filename: str) -> None:
    found = words_of(filename)
    assert found.isdisjoint({"wormery", "slugs"})  # the deletion
    assert "finally" in found  # the insertion
    assert found.isdisjoint({"peelings", "leftovers"})  # the footnote
    assert found.isdisjoint({"mia", "jones"})  # the header
    assert found.isdisjoint({"holidays", "who"})  # the comment
    assert {"sunflowers", "carrots"} <= found  # the text box
    assert "april" in found  # a date field's result


def test_word_content_controls_count_but_placeholders_deletions_and_moved_from_text_do_not() -> None:
    text = extract(CORPUS / "word_constructs.docx")
    assert "Sam Patel for the spring term" in text
    assert "school gardens" in text
    assert "Click or tap" not in text
    assert "very old" not in text
    assert text.count("They also teach patience.") == 1
    assert "Year 9" not in text
    assert "Draft" not in text


@pytest.mark.parametrize("filename", ["running_heads.pdf", "running_heads.docx", "running_heads.odt"])
def test_running_headers_and_page_footers_are_dropped(filename: str) -> None:
    text = extract(CORPUS / filename)
    assert "Protocol notes" not in text
    assert "Page " not in text


def test_soft_hyphens_and_line_end_hyphens_leave_whole_words() -> None:
    for filename in ("hyphenated.pdf", "hyphenated.odt", "hyphenated.rtf"):
        assert {"interpretations", "modifiers"} <= words_of(filename), filename
    # The PDF really does break words at line ends, so the rejoining is what is tested.
    pages = PdfReader(CORPUS / "hyphenated.pdf").pages
    assert sum(len(re.findall(r"[a-z]-\n[a-z]", page.extract_text())) for page in pages) >= 20


def test_the_same_essay_spells_alike_in_every_format() -> None:
    rates = {
        name(entry): analyse_text(extract(CORPUS / name(entry)), "en").spelling_errors_per_100_words
        for entry in READABLE
        if entry.get("same_essay")
    }
    assert {Path(filename).suffix for filename in rates} >= {".txt", ".docx", ".odt", ".pdf"}
    assert max(rates.values()) - min(rates.values()) <= 0.1
    assert min(rates.values()) > 0  # the essay has misspellings to find
