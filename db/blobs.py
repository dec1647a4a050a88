"""Where uploaded files live: a blob store behind a small protocol, a local directory or S3.

SQL keeps what is known about an upload (sha256, size, blob key: `db/uploads.py`); the bytes live here.
A key is `uploads/<sha256[:2]>/<sha256>.<token>`: addressed by content, and never reused, so a purge that
deletes a key cannot race an upload of the same bytes that is writing a new one.

- `LocalBlobStore`: files under one directory, written to a temporary name, fsynced, then renamed, so a
  reader never sees half a file. The embedded default (`ELS_BLOB_STORE=.els/blobs`); in compose every
  container that reads or writes uploads mounts the same volume.
- `S3BlobStore`: any S3-compatible server through boto3 (`ELS_BLOB_STORE=s3://bucket/prefix`,
  `ELS_S3_ENDPOINT_URL` for one that is not AWS; credentials come from boto3's usual chain, such as
  `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`).
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from els.errors import BlobStoreUnavailableError, ConfigurationError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

S3_DELETE_BATCH = 1000  # the most keys one DeleteObjects call takes


class BlobStore(Protocol):
    """Bytes by key. `put` is called once per new key; `delete` ignores keys that are not there."""

    def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key`, whole or not at all."""

    def get(self, key: str) -> bytes | None:
        """The bytes under `key`, or None."""

    def delete(self, keys: Sequence[str]) -> None:
        """Remove every key of `keys` that is there."""


def new_upload_key(sha256: str) -> str:
    """A fresh key for an upload with this sha256."""
    return f"uploads/{sha256[:2]}/{sha256}.{secrets.token_hex(8)}"


class LocalBlobStore:
    """Blobs as files under `root`, one per key."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()) or ".." in Path(key).parts:
            raise ValueError(f"blob key {key!r} leaves the store")
        return path

    def put(self, key: str, data: bytes) -> None:
        """Write to a temporary file beside the target, fsync it, then rename it into place."""
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        except OSError as error:
            raise BlobStoreUnavailableError(f"the blob store did not take {key}: {error}") from error
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except OSError as error:  # a full or read-only disk
            Path(temporary).unlink(missing_ok=True)
            raise BlobStoreUnavailableError(f"the blob store did not take {key}: {error}") from error
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes | None:
        """The file's bytes, or None when there is no such file."""
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, keys: Sequence[str]) -> None:
        """Unlink each file; a missing one is fine."""
        for key in keys:
            self._path(key).unlink(missing_ok=True)


class S3BlobStore:
    """Blobs as objects of one bucket, under `prefix`."""

    def __init__(self, client: S3Client, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def put(self, key: str, data: bytes) -> None:
        """One PutObject: S3 stores an object whole or not at all."""
        try:
            self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data)
        except (BotoCoreError, ClientError) as error:
            raise BlobStoreUnavailableError(f"the blob store did not take {key}: {error}") from error

    def get(self, key: str) -> bytes | None:
        """One GetObject; None for NoSuchKey."""
        try:
            reply = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
            return reply["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "NoSuchKey":
                return None
            raise BlobStoreUnavailableError(f"the blob store did not answer for {key}: {error}") from error
        except BotoCoreError as error:
            raise BlobStoreUnavailableError(f"the blob store did not answer for {key}: {error}") from error

    def delete(self, keys: Sequence[str]) -> None:
        """DeleteObjects in batches of 1,000 (S3 does not mind keys that are gone)."""
        for start in range(0, len(keys), S3_DELETE_BATCH):
            chunk = keys[start : start + S3_DELETE_BATCH]
            try:
                self.client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": self.prefix + key} for key in chunk], "Quiet": True},
                )
            except (BotoCoreError, ClientError) as error:
                raise BlobStoreUnavailableError(f"the blob store did not delete: {error}") from error


def open_blob_store(location: str, *, s3_endpoint_url: str = "") -> BlobStore:
    """The store `location` names: `s3://bucket[/prefix]`, or a directory (created if missing)."""
    if location.startswith("s3://"):
        parts = urlsplit(location)
        if not parts.netloc:
            raise ConfigurationError(f"ELS_BLOB_STORE {location!r} names no bucket: use s3://bucket/prefix")
        import boto3  # noqa: PLC0415 - only a deployment on S3 loads boto3

        client: S3Client = boto3.client("s3", endpoint_url=s3_endpoint_url or None)
        return S3BlobStore(client, parts.netloc, parts.path)
    if "://" in location:
        raise ConfigurationError(f"ELS_BLOB_STORE {location!r} is neither a directory nor s3://bucket/prefix")
    root = Path(location)
    root.mkdir(parents=True, exist_ok=True)
    return LocalBlobStore(root)
