"""Both blob stores keep bytes whole by key: the local directory and S3 (moto's server, over HTTP)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from db.blobs import BlobStore, LocalBlobStore, S3BlobStore, new_upload_key, open_blob_store
from els.errors import BlobStoreUnavailableError, ConfigurationError
from tests.support.s3 import create_bucket, s3_server


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with s3_server() as url:
        yield url


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return open_blob_store(str(tmp_path / "blobs"))
    endpoint: str = request.getfixturevalue("s3_endpoint")
    bucket = f"els-{hashlib.sha256(str(tmp_path).encode()).hexdigest()[:12]}"
    create_bucket(endpoint, bucket)
    opened = open_blob_store(f"s3://{bucket}/uploads-of-tests", s3_endpoint_url=endpoint)
    assert isinstance(opened, S3BlobStore)
    return opened


def test_a_blob_is_kept_whole_under_its_key_until_deleted(store: BlobStore) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB of every byte value
    key = new_upload_key(hashlib.sha256(data).hexdigest())
    assert store.get(key) is None
    store.put(key, data)
    assert store.get(key) == data
    store.delete([key, new_upload_key("0" * 64)])  # a key that is not there is fine
    assert store.get(key) is None


def test_each_write_of_the_same_bytes_takes_a_new_key(store: BlobStore) -> None:
    sha256 = hashlib.sha256(b"same").hexdigest()
    first, second = new_upload_key(sha256), new_upload_key(sha256)
    assert first != second and first.startswith(f"uploads/{sha256[:2]}/{sha256}.")
    store.put(first, b"same")
    store.put(second, b"same")
    store.delete([first])
    assert store.get(second) == b"same"  # deleting an old copy never touches a newer one


def test_a_local_store_writes_no_half_files_and_keeps_keys_inside(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    store.put("uploads/ab/x.1", b"whole")
    assert [path.name for path in tmp_path.rglob("*") if path.is_file()] == ["x.1"]  # no temp file left
    for escape in ("../outside", "uploads/../../outside", "/etc/passwd"):
        with pytest.raises(ValueError, match="leaves the store"):
            store.put(escape, b"x")


def test_a_full_or_read_only_store_is_an_outage_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "uploads").write_text("a file where a directory should be")
    with pytest.raises(BlobStoreUnavailableError, match="did not take"):
        LocalBlobStore(tmp_path).put("uploads/ab/key", b"x")


def test_an_unreachable_s3_server_is_an_outage() -> None:
    store = open_blob_store("s3://nowhere/p", s3_endpoint_url="http://127.0.0.1:1")
    with pytest.raises(BlobStoreUnavailableError):
        store.put("uploads/ab/key", b"x")


@pytest.mark.parametrize("location", ["s3://", "http://example.invalid/x", "ftp://host/dir"])
def test_a_location_that_is_neither_a_directory_nor_s3_is_refused(location: str) -> None:
    with pytest.raises(ConfigurationError, match="ELS_BLOB_STORE"):
        open_blob_store(location)
