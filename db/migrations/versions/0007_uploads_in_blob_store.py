"""Uploads move out of SQL into the blob store: an `uploads` table keeps their sha256, size and blob key.

Every upload a submission refers to is written to the blob store (`ELS_BLOB_STORE`, or the store
`db.migrate.upgrade` is handed) under a fresh key, and gets its `uploads` row; the submissions' foreign
key moves to `uploads`; `contents` keeps only the extracted texts. Rows move in chunks, and every blob
is written before the transaction that records it commits, so a failed run leaves the database as it
was (and at worst unreferenced blobs).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from db.blobs import BlobStore, new_upload_key, open_blob_store
from db.columns import UtcDateTime
from els.settings import Settings

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

HASH = sa.String(64)
CHUNK = 100

contents = sa.table(
    "contents",
    sa.column("sha256", HASH),
    sa.column("data", sa.LargeBinary()),
    sa.column("size", sa.Integer()),
    sa.column("created_at", UtcDateTime()),
)
uploads = sa.table(
    "uploads",
    sa.column("sha256", HASH),
    sa.column("blob_key", sa.String(200)),
    sa.column("size", sa.Integer()),
    sa.column("created_at", UtcDateTime()),
)
submissions = sa.table("submissions", sa.column("upload_sha256", HASH), sa.column("text_sha256", HASH))


def _store() -> BlobStore:
    given = context.config.attributes.get("blob_store")
    if isinstance(given, str):
        return open_blob_store(given)
    settings = Settings()
    return open_blob_store(settings.blob_store, s3_endpoint_url=settings.s3_endpoint_url)


def upgrade() -> None:
    """Create `uploads`, move every referenced upload's bytes to the blob store, repoint the key."""
    op.create_table(
        "uploads",
        sa.Column("sha256", HASH, nullable=False),
        sa.Column("blob_key", sa.String(200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_uploads"),
    )
    connection = op.get_bind()
    referenced = sa.select(submissions.c.upload_sha256).distinct()
    hashes = list(connection.scalars(referenced))
    store: BlobStore | None = None
    for start in range(0, len(hashes), CHUNK):
        chunk = hashes[start : start + CHUNK]
        rows = connection.execute(sa.select(contents).where(contents.c.sha256.in_(chunk))).all()
        moved = []
        for row in rows:
            key = new_upload_key(row.sha256)
            store = store or _store()
            store.put(key, row.data)
            moved.append(
                {"sha256": row.sha256, "blob_key": key, "size": row.size, "created_at": row.created_at}
            )
        if moved:
            connection.execute(uploads.insert(), moved)
    with op.batch_alter_table("submissions") as table:
        table.drop_constraint("fk_submissions_upload_sha256_contents", type_="foreignkey")
        table.create_foreign_key(
            "fk_submissions_upload_sha256_uploads", "uploads", ["upload_sha256"], ["sha256"]
        )
    texts = sa.select(submissions.c.text_sha256).where(submissions.c.text_sha256.is_not(None))
    connection.execute(contents.delete().where(contents.c.sha256.not_in(texts)))


def downgrade() -> None:
    """Bring every upload's bytes back into `contents` and drop `uploads` (the blobs stay)."""
    connection = op.get_bind()
    rows = connection.execute(sa.select(uploads)).all()
    store: BlobStore | None = None
    present = set(connection.scalars(sa.select(contents.c.sha256)))
    for row in rows:
        if row.sha256 in present:
            continue
        store = store or _store()
        data = store.get(row.blob_key)
        if data is None:
            raise RuntimeError(f"the blob store has no {row.blob_key}: cannot bring upload {row.sha256} back")
        connection.execute(
            contents.insert(),
            [{"sha256": row.sha256, "data": data, "size": row.size, "created_at": row.created_at}],
        )
    with op.batch_alter_table("submissions") as table:
        table.drop_constraint("fk_submissions_upload_sha256_uploads", type_="foreignkey")
        table.create_foreign_key(
            "fk_submissions_upload_sha256_contents", "contents", ["upload_sha256"], ["sha256"]
        )
    op.drop_table("uploads")
