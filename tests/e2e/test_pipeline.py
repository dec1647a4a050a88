"""The essay pipeline end to end: in-process worker, real Redis, real PostgreSQL."""

from __future__ import annotations

from bootstrap import installed_runtime as get_runtime
from coordinator import BatchState
from db.batches import load_report
from db.session import unit_of_work
from tests.support.batches import register_batch, submit, wait_for_assigned, wait_for_state
from tests.support.documents import make_docx, make_pdf

ESSAYS = [
    "Rivers shape the land they cross. Over thousands of years water carves valleys, moves stones and "
    "builds wide plains where farmers later grow their crops. Floods bring fresh soil every spring.",
    "Libraries are quiet places where anyone can borrow a book for free. They also offer computers, "
    "classes and a warm room in winter, which makes them important for the whole town and its people.",
    "Bicycles are a cheap and healthy way to travel. Cities that build safe lanes for cyclists see fewer "
    "cars, cleaner air and happier residents, and children can ride to school on their own as well.",
]


def report_of(batch_id: str) -> dict[str, object]:
    with unit_of_work(get_runtime().engine, read_only=True) as session:
        report = load_report(session, batch_id)
    assert report is not None
    return dict(report)


def test_batch_of_txt_docx_and_pdf_reaches_done_with_a_report(broker_worker: str) -> None:
    runtime = get_runtime()
    batch_id = register_batch(runtime, 3)
    submit(runtime, batch_id, "one.txt", ESSAYS[0].encode())
    submit(runtime, batch_id, "two.docx", make_docx(ESSAYS[1]))
    submit(runtime, batch_id, "three.pdf", make_pdf(ESSAYS[2]))
    status = wait_for_state(runtime, batch_id, BatchState.DONE)
    assert (status.assigned, status.failed, status.excess) == (3, 0, 0)
    counts = report_of(batch_id)["counts"]
    assert isinstance(counts, dict)
    assert counts["analysed"] == 3
    assert counts["missing"] == 0


def test_failures_duplicates_and_excess_all_count(broker_worker: str) -> None:
    runtime = get_runtime()
    batch_id = register_batch(runtime, 3)
    submit(runtime, batch_id, "one.txt", ESSAYS[0].encode())
    wait_for_assigned(runtime, batch_id, 1)
    submit(runtime, batch_id, "copy.docx", make_docx(ESSAYS[0]))
    submit(runtime, batch_id, "empty.txt", b"")
    submit(runtime, batch_id, "image.png", b"\x89PNG\r\n\x1a\n" + bytes(64))
    status = wait_for_state(runtime, batch_id, BatchState.DONE)
    assert (status.assigned, status.failed, status.duplicates) == (1, 2, 1)
    submit(runtime, batch_id, "late.txt", ESSAYS[1].encode())
    report = report_of(batch_id)
    counts = report["counts"]
    assert isinstance(counts, dict)
    assert (counts["analysed"], counts["failed"], counts["duplicates"]) == (1, 2, 1)
    codes = {row["code"] for row in report_rows(report) if row["status"] == "failed"}
    assert codes == {"EMPTY_CONTENT", "UNSUPPORTED_TYPE"}


def report_rows(report: dict[str, object]) -> list[dict[str, object]]:
    rows = report["essays"]
    assert isinstance(rows, list)
    return [row for row in rows if isinstance(row, dict)]
