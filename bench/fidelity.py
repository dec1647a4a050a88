"""How faithfully ELS extracts text: word-level recall and precision per format, against a ground truth.

Run: `uv run python bench/fidelity.py`. The corpus is `tests/fixtures/documents/` (LibreOffice, python-docx,
pypdf and Pillow wrote it; `build_documents.py` there rebuilds it); `manifest.json` maps each document
to the text a reader sees in it, or to the rejection code ELS must answer it with. Each document goes
through the real upload path (`essays.upload.process_upload`). It reports:
- per document and per format: recall (the share of the truth's words ELS extracts) and precision (the
  share of extracted words that are in the truth), over multisets of case-folded words, and `in_order`,
  the share of the truth's words that come out in the truth's order (two-column pages, text boxes);
- rejections: the code each scanned or encrypted PDF gets against the one expected;
- spelling: errors per 100 words (`essays.analysis.analyse_text`) of the same essay in each format, and
  their spread, which should stay within 0.1.
The last line printed is one JSON object.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

if not __package__:
    # Run as a script, bench/ comes first on sys.path and would shadow the project's packages.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from els.errors import EssayRejectedError
from essays.analysis import analyse_text
from essays.detect import file_extension
from essays.tokens import words
from essays.upload import process_upload
from essays.validate import Limits

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "documents"
TARGET = 0.99
SPELLING_SPREAD = 0.1
# Short feature documents are read whole: the corpus checks fidelity, not the minimum length.
LIMITS = Limits(min_words=1)


@dataclass(frozen=True)
class Score:
    """How one extracted text compares with its truth, counted in words."""

    truth_words: int
    extracted_words: int
    common: int
    in_order: int

    @property
    def recall(self) -> float:
        """Share of the truth's words that were extracted."""
        return self.common / self.truth_words if self.truth_words else 1.0

    @property
    def precision(self) -> float:
        """Share of the extracted words that are in the truth."""
        return self.common / self.extracted_words if self.extracted_words else 1.0


def comparable_words(text: str) -> list[str]:
    """The words of `text` as compared: case-folded, typographic apostrophes made plain."""
    return [word.replace("\u2019", "'").casefold() for word in words(text)]


def score(truth: str, extracted: str) -> Score:
    """Recall, precision and order of `extracted` against `truth`, over words."""
    expected, found = comparable_words(truth), comparable_words(extracted)
    common = sum((Counter(expected) & Counter(found)).values())
    matcher = SequenceMatcher(None, expected, found, autojunk=False)
    in_order = sum(block.size for block in matcher.get_matching_blocks())
    return Score(len(expected), len(found), common, in_order)


def load_manifest(corpus: Path = CORPUS) -> list[dict[str, object]]:
    """The corpus's documents, as `manifest.json` lists them."""
    documents = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))["documents"]
    return [dict(entry) for entry in documents]


def extract(path: Path) -> str:
    """The normalised text ELS accepts from the file at `path`; raises EssayRejectedError."""
    return process_upload(path.read_bytes(), path.name, LIMITS).text


def rejection_code(path: Path) -> str | None:
    """The code ELS rejects the file at `path` with, or None when it accepts it."""
    try:
        extract(path)
    except EssayRejectedError as error:
        return str(error.code)
    return None


def document_format(filename: str) -> str:
    """The format a document is counted under: its extension without the dot."""
    return file_extension(filename).lstrip(".")


def main() -> None:
    per_format: dict[str, list[Score]] = {}
    rejections: dict[str, dict[str, str | None]] = {}
    spelling: dict[str, float] = {}
    for entry in load_manifest():
        filename = str(entry["file"])
        path = CORPUS / filename
        if "rejection" in entry:
            got = rejection_code(path)
            rejections[filename] = {"expected": str(entry["rejection"]), "got": got}
            print(f"{filename:24} rejected with {got} (expected {entry['rejection']})")
            continue
        truth = (CORPUS / str(entry["truth"])).read_text(encoding="utf-8")
        text = extract(path)
        result = score(truth, text)
        per_format.setdefault(document_format(filename), []).append(result)
        print(
            f"{filename:24} recall {result.recall:.4f}  precision {result.precision:.4f}  "
            f"in order {result.in_order / result.truth_words:.4f}  ({result.truth_words} words)"
        )
        if entry.get("same_essay"):
            spelling[filename] = analyse_text(text, "en").spelling_errors_per_100_words
    formats = {}
    for name, scores in sorted(per_format.items()):
        total = Score(*(sum(getattr(item, part) for item in scores) for part in Score.__dataclass_fields__))
        formats[name] = {
            "documents": len(scores),
            "recall": round(total.recall, 4),
            "precision": round(total.precision, 4),
            "in_order": round(total.in_order / total.truth_words, 4),
            "lowest_recall": round(min(item.recall for item in scores), 4),
            "lowest_precision": round(min(item.precision for item in scores), 4),
        }
    spread = round(max(spelling.values()) - min(spelling.values()), 4)
    figures = {
        "formats": formats,
        "rejections": rejections,
        "spelling_errors_per_100_words": spelling,
        "spelling_spread": spread,
        "targets_met": all(
            item["lowest_recall"] >= TARGET and item["lowest_precision"] >= TARGET
            for item in formats.values()
        )
        and all(item["expected"] == item["got"] for item in rejections.values())
        and spread <= SPELLING_SPREAD,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
