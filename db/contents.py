"""Extracted texts, stored once per sha256 (uploads live in the blob store: db/blobs.py, db/uploads.py)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.orm import Session

from db.models import Content
from db.writes import insert_ignore


def store_content(session: Session, data: bytes, at: datetime) -> str:
    """Store `data` unless it is already there; returns its sha256 hex."""
    sha256 = hashlib.sha256(data).hexdigest()
    insert_ignore(session, Content, [{"sha256": sha256, "data": data, "size": len(data), "created_at": at}])
    return sha256


def load_content(session: Session, sha256: str) -> bytes | None:
    """The bytes stored under `sha256`, or None."""
    row = session.get(Content, sha256)
    return None if row is None else row.data
