"""The batch document's CSV is safe in a spreadsheet, and the terminal rendering fits 80 columns."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from rich.console import Console

from cli.report import print_document
from services.report_document import (
    CSV_COLUMNS,
    BatchDocument,
    DuplicatePair,
    FileView,
    SlotView,
    document_csv,
    safe_cell,
)

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def a_file(name: str, outcome: str, essay_id: str | None, code: str | None = None) -> FileView:
    return FileView(
        submission_id=f"s-{name}",
        batch_id="b1",
        filename=name,
        size=1200,
        media_type="text/plain",
        received_at=AT,
        outcome=outcome,
        essay_id=essay_id,
        code=code,
        message=None if code is None else "the essay is too short",
    )


def a_document() -> BatchDocument:
    long_name = "a-very-long-student-name-with-a-surname-that-goes-on-and-on-forever.docx"
    kept = a_file(long_name, "assigned", "b1-001")
    short = a_file("=HYPERLINK(evil).txt", "failed", "b1-002", "CONTENT_TOO_SHORT")
    copy = a_file("+copy.txt", "duplicate", "b1-001")
    slots = (
        SlotView(
            "b1-001",
            0,
            "analysed",
            "assigned",
            None,
            None,
            kept,
            {"words": 250, "readability": 61.5, "warnings": ["LANGUAGE_MISMATCH"]},
        ),
        SlotView("b1-002", 1, "failed", "failed", "CONTENT_TOO_SHORT", short.message, short, None),
        SlotView("b1-003", 2, "missing", "missing", None, None, None, None),
    )
    return BatchDocument(
        batch_id="b1",
        state="done",
        expected=3,
        assigned=1,
        failed=1,
        excess=0,
        duplicates=1,
        deadline_at=AT,
        closed_at=AT,
        language="en",
        course_code=None,
        slots=slots,
        files=(kept, short, copy),
        refused=(short,),
        duplicate_pairs=(DuplicatePair(copy, "b1-001", long_name),),
        excess_files=(),
        missing_essay_ids=("b1-003",),
        report=None,
    )


def test_cells_that_a_spreadsheet_would_run_get_a_leading_quote() -> None:
    for risky in ("=1+1", "+cmd", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(risky) == "'" + risky
    for plain in ("essay.txt", "", "12", "a=b"):
        assert safe_cell(plain) == plain


def test_the_csv_has_one_row_per_slot_with_filename_outcome_and_measures() -> None:
    rows = list(csv.reader(io.StringIO(document_csv(a_document()))))
    assert tuple(rows[0]) == CSV_COLUMNS
    # Spreadsheets read columns by position: a measure added later goes after the earlier ones.
    assert CSV_COLUMNS.index("mattr") > CSV_COLUMNS.index("mean_sentence_length")
    body = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [row["essay_id"] for row in body] == ["b1-001", "b1-002", "b1-003"]
    assert body[0]["words"] == "250" and body[0]["outcome"] == "assigned"
    assert body[0]["warnings"] == "LANGUAGE_MISMATCH" and body[1]["warnings"] == ""
    assert body[1]["filename"] == "'=HYPERLINK(evil).txt" and body[1]["code"] == "CONTENT_TOO_SHORT"
    assert body[2]["outcome"] == "missing" and body[2]["filename"] == ""


def test_the_terminal_rendering_fits_80_columns_filename_first() -> None:
    console = Console(width=200, record=True, color_system=None)
    print_document(console, a_document())
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    header = next(line for line in text.splitlines() if "outcome" in line)
    assert header.index("file") < header.index("outcome")
    assert "+copy.txt repeats" in text and "a-very-long-student-name" in text
    assert "Missing essays: b1-003" in text
