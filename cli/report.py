"""A batch report as tables for a terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from els.jsontypes import JsonObject, JsonValue


def print_report(console: Console, report: JsonObject) -> None:
    """Print the counts, the batch means and one row per slot."""
    counts = _object(report.get("counts"))
    summary = Table(title=f"Batch {report.get('batch_id')}", show_header=False)
    for name, value in counts.items():
        summary.add_row(name, str(value))
    console.print(summary)
    means = Table(title="Means over analysed essays", show_header=False)
    for name, value in _object(report.get("means")).items():
        means.add_row(name, _number(value))
    console.print(means)
    rows = Table(title="Essays")
    rows.add_column("essay", no_wrap=True)
    rows.add_column("status")
    rows.add_column("code", no_wrap=True)
    for column in ("words", "spelling /100", "readability", "MTLD"):
        rows.add_column(column, justify="right")
    essays = report.get("essays")
    for row in essays if isinstance(essays, list) else []:
        entry = _object(row)
        analysis = _object(entry.get("analysis"))
        rows.add_row(
            str(entry.get("essay_id")),
            str(entry.get("status")),
            str(entry.get("code") or ""),
            _number(analysis.get("words")),
            _number(analysis.get("spelling_errors_per_100_words")),
            _number(analysis.get("readability")),
            _number(analysis.get("mtld")),
        )
    console.print(rows)


def _object(value: JsonValue | None) -> JsonObject:
    return value if isinstance(value, dict) else {}


def _number(value: JsonValue | None) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)
