"""Retention: purge finished batches from SQL, then delete their uploads' bytes from the blob store."""

from __future__ import annotations

from datetime import timedelta

from db.purge import PurgeReport, purge_finished
from services.runtime import Runtime


def purge(runtime: Runtime, older_than: timedelta, *, dry_run: bool = False) -> PurgeReport:
    """Remove batches finished more than `older_than` ago, and then the blobs only they referred to.

    The rows go first, in one transaction, and the blobs after it committed: a crash between leaves
    unreferenced blobs (disk, never a missing upload). Blob keys are never reused, so an upload of the
    same bytes meanwhile wrote its own copy under a new key.
    """
    report = purge_finished(runtime.engine, older_than, dry_run=dry_run)
    if report.blob_keys:
        runtime.blobs.delete(report.blob_keys)
    return report
