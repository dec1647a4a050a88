"""A batch, slot by slot with its files, as tables for an 80-column terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from els.jsontypes import JsonValue
from services.report_document import BatchDocument


def _number(value: JsonValue | None) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def print_document(console: Console, document: BatchDocument) -> None:
    """A batch slot by slot, filename first, within 80 columns; then refused, duplicates and missing."""
    width = min(console.width, 80)
    head = Table(title=f"Batch {document.batch_id}", show_header=False, width=width)
    head.add_row("state", document.state)
    head.add_row(
        "slots",
        f"{document.assigned} assigned, {document.failed} failed, {len(document.missing_essay_ids)} "
        f"missing of {document.expected}",
    )
    head.add_row(
        "files", f"{len(document.files)} received, {document.duplicates} duplicates, {document.excess} late"
    )
    for name, value in document.means.items():
        head.add_row(f"mean {name}", _number(value))
    console.print(head, width=width)
    rows = Table(title="Essays", width=width)
    rows.add_column("file", overflow="fold", ratio=3)
    rows.add_column("outcome", overflow="fold", ratio=2)
    rows.add_column("reason", overflow="fold", ratio=3)
    rows.add_column("words", justify="right", ratio=1)
    rows.add_column("read.", justify="right", ratio=1)
    for slot in document.slots:
        measures = slot.measures or {}
        rows.add_row(
            slot.file.filename if slot.file is not None else f"(slot {slot.position + 1}: none)",
            slot.state if slot.outcome == "assigned" else slot.outcome,
            slot.message or "",
            _number(measures.get("words")),
            _number(measures.get("readability")),
        )
    console.print(rows, width=width)
    if document.refused:
        console.print("Refused files:", width=width)
        for item in document.refused:
            console.print(f"  {item.filename}: {item.code} - {item.message or ''}", width=width, markup=False)
    if document.duplicate_pairs:
        console.print("Duplicates:", width=width)
        for pair in document.duplicate_pairs:
            console.print(
                f"  {pair.file.filename} repeats {pair.of_filename or pair.of_essay_id}",
                width=width,
                markup=False,
            )
    if document.excess_files:
        console.print("Arrived after the batch closed:", width=width)
        for item in document.excess_files:
            console.print(f"  {item.filename}", width=width, markup=False)
    if document.missing_essay_ids:
        console.print(f"Missing essays: {', '.join(document.missing_essay_ids)}", width=width, markup=False)
