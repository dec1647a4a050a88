"""What SQL knows of each uploaded file: its sha256, size and blob key (the bytes are in the blob store)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import UploadBlob
from db.writes import insert_ignore


@dataclass(frozen=True)
class StoredUpload:
    """An upload's bytes in the blob store: which sha256, how many, where, and whether this request wrote
    them (False: they were recorded already, under `blob_key`)."""

    sha256: str
    size: int
    blob_key: str
    written: bool = True


class UploadGoneError(LookupError):
    """The recorded copy of the bytes a request meant to reuse was purged meanwhile: write them again."""


def upload_key(session: Session, sha256: str) -> str | None:
    """The blob key already recorded for these bytes, or None."""
    row = session.get(UploadBlob, sha256)
    return None if row is None else row.blob_key


def upload_keys(session: Session, hashes: Sequence[str]) -> dict[str, str]:
    """The blob keys already recorded for any of `hashes`, by sha256."""
    rows = session.execute(
        select(UploadBlob.sha256, UploadBlob.blob_key).where(UploadBlob.sha256.in_(hashes))
    )
    return {sha256: key for sha256, key in rows}


def record_upload(session: Session, upload: StoredUpload, at: datetime) -> str:
    """Record the upload unless its sha256 is recorded already; returns the key the row holds (another
    key than `upload.blob_key` when a concurrent upload of the same bytes recorded first).

    Bytes this request did not write are never recorded here: their row must still be there
    (UploadGoneError otherwise), and the submission's foreign key holds it from now on.
    """
    if not upload.written:
        stored = upload_key(session, upload.sha256)
        if stored is None:
            raise UploadGoneError(f"upload {upload.sha256} was purged while it was reused")
        return stored
    row = {"sha256": upload.sha256, "blob_key": upload.blob_key, "size": upload.size, "created_at": at}
    if insert_ignore(session, UploadBlob, [row]):
        return upload.blob_key
    stored = upload_key(session, upload.sha256)
    if stored is None:
        raise LookupError(f"upload {upload.sha256} collided with a row that is not there")
    return stored
