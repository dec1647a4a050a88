"""Hostile uploads through the real pipeline: each fails with its code, the batch still completes."""

from __future__ import annotations

from celery.worker.worker import WorkController

from bootstrap import installed_runtime as get_runtime
from coordinator import BatchState
from tests.e2e.test_pipeline import ESSAYS, report_of, report_rows
from tests.support.batches import register_batch, submit, wait_for_state
from tests.support.documents import make_encrypted_pdf, make_zip_bomb_docx, random_binary

BAD_INPUTS: dict[str, bytes] = {
    "empty.txt": b"",
    "bomb.docx": make_zip_bomb_docx(),
    "locked.pdf": make_encrypted_pdf(ESSAYS[0]),
    "noise.txt": random_binary(4096),
    "broken.txt": ESSAYS[2].encode()[:60] + b"\xff\xfe\xfa\xc3\x28" + ESSAYS[2].encode()[60:],
}


def test_each_bad_input_fails_with_its_code_and_the_batch_completes(els_worker: WorkController) -> None:
    runtime = get_runtime()
    # One byte over ELS_MAX_UPLOAD_BYTES, stored straight into SQL past the API's own check.
    bad = {**BAD_INPUTS, "huge.txt": b"x" * (runtime.settings.max_upload_bytes + 1)}
    batch_id = register_batch(runtime, len(bad) + 1)
    submit(runtime, batch_id, "good.txt", ESSAYS[1].encode())
    for name, data in bad.items():
        submit(runtime, batch_id, name, data)
    status = wait_for_state(runtime, batch_id, BatchState.DONE)
    assert status.assigned + status.failed == len(bad) + 1
    failed = sorted(str(row["code"]) for row in report_rows(report_of(batch_id)) if row["status"] == "failed")
    # Invalid UTF-8 inside a real essay is decoded leniently and analysed, not rejected.
    assert failed == [
        "CONTENT_TOO_LONG",
        "EMPTY_CONTENT",
        "ENCRYPTED_FILE",
        "TEXT_EXTRACTION_FAILED",
        "UNSUPPORTED_TYPE",
    ]
    assert status.assigned == 2
