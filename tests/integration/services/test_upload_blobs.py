"""Uploads live in the blob store, not in SQL: intake writes them once, processing reads them, and the
purge deletes them with their batch; on a local directory and on S3 (moto's server) alike."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from db.models import Batch, Content, UploadBlob
from db.session import unit_of_work
from els.ids import public_id
from els.settings import Settings
from services import retention
from services.intake import Upload, submit_essays
from services.process import process_submission
from services.runtime import Runtime
from tests.integration.services.support import own_sqlite_runtime
from tests.support.batches import register_batch
from tests.support.s3 import create_bucket, s3_server

pytestmark = [pytest.mark.redis]

ESSAY = (
    b"Rivers carve valleys over thousands of years. Water carries sand and stones downstream, and "
    b"each flood moves the banks a little further. People have always settled near rivers."
)


@pytest.fixture(params=["local", "s3"])
def blob_runtime(
    request: pytest.FixtureRequest, worker_settings: Settings, key_prefix: str, tmp_path: Path
) -> Iterator[Runtime]:
    """A runtime of its own whose blob store is a directory of this test, or a bucket on moto's S3."""
    if request.param == "local":
        update = {"blob_store": str(tmp_path / "blobs")}
        with own_sqlite_runtime(worker_settings, key_prefix, tmp_path, **update) as built:
            yield built
        return
    with s3_server() as endpoint:
        create_bucket(endpoint, "els-uploads")
        update = {"blob_store": "s3://els-uploads/school-1", "s3_endpoint_url": endpoint}
        with own_sqlite_runtime(worker_settings, key_prefix, tmp_path, **update) as built:
            yield built


def upload_keys(runtime: Runtime) -> dict[str, str]:
    with unit_of_work(runtime.engine, read_only=True) as session:
        return {sha: key for sha, key in session.execute(select(UploadBlob.sha256, UploadBlob.blob_key))}


def test_an_upload_goes_to_the_blob_store_once_and_its_processing_reads_it(blob_runtime: Runtime) -> None:
    runtime = blob_runtime
    sha256 = hashlib.sha256(ESSAY).hexdigest()
    first = register_batch(runtime, 2)
    (accepted,) = submit_essays(
        runtime, "teacher-1", public_id(first), [Upload("a.txt", "text/plain", ESSAY)], correlation_id="c"
    )
    keys = upload_keys(runtime)
    assert list(keys) == [sha256]
    assert runtime.blobs.get(keys[sha256]) == ESSAY
    with unit_of_work(runtime.engine, read_only=True) as session:
        assert session.scalar(select(func.count()).select_from(Content)) == 0  # no bytes in SQL

    outcome = process_submission(runtime, first, accepted.submission_id, "c")
    assert (outcome.kind, outcome.content_hash is not None) == ("processed", True)

    # The same bytes in another batch reuse the recorded blob: nothing is written twice.
    second = register_batch(runtime, 1)
    submit_essays(
        runtime, "teacher-1", public_id(second), [Upload("copy.txt", "text/plain", ESSAY)], correlation_id="c"
    )
    assert upload_keys(runtime) == keys


def test_a_purge_deletes_the_blobs_only_its_batches_referred_to(blob_runtime: Runtime) -> None:
    runtime = blob_runtime
    finished, kept = register_batch(runtime, 2), register_batch(runtime, 1)
    own, shared = b"only the finished batch sent this essay", ESSAY
    submit_essays(
        runtime,
        "teacher-1",
        public_id(finished),
        [Upload("own.txt", "text/plain", own), Upload("shared.txt", "text/plain", shared)],
        correlation_id="c",
    )
    submit_essays(
        runtime,
        "teacher-1",
        public_id(kept),
        [Upload("shared.txt", "text/plain", shared)],
        correlation_id="c",
    )
    keys = {hashlib.sha256(data).hexdigest(): data for data in (own, shared)}
    recorded = upload_keys(runtime)
    with unit_of_work(runtime.engine) as session:
        long_ago = datetime.now(UTC) - timedelta(days=90)
        session.execute(
            update(Batch).where(Batch.batch_id == finished).values(state="done", completed_at=long_ago)
        )

    report = retention.purge(runtime, timedelta(days=30))
    assert (report.batches, report.uploads) == (1, 1)
    own_key, shared_key = (recorded[sha] for sha in keys)
    assert runtime.blobs.get(own_key) is None  # deleted with its batch
    assert runtime.blobs.get(shared_key) == shared  # the kept batch still refers to it
    assert list(upload_keys(runtime)) == [hashlib.sha256(shared).hexdigest()]
