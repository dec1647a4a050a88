"""What a team without ELS would write: one Celery chord over a batch's essays, no coordinator.

Each header task runs the same essay functions as ELS (`essays.upload.process_upload`, then
`essays.analysis.analyse_text`) and writes one row per essay; the callback writes one report row.
`bench/pipeline.py` starts a worker on this module (`celery -A bench.plain_chord worker`) with
`PLAIN_BROKER_URL`, `PLAIN_BACKEND_URL`, `PLAIN_DATABASE_URL` and `PLAIN_QUEUE` in its environment,
and the same acknowledgement settings as ELS's worker (late acks, prefetch 1).
"""

from __future__ import annotations

import base64
import os
from functools import cache

import celery
import sqlalchemy as sa
from celery.result import AsyncResult

from els.settings import Settings
from essays.analysis import analyse_text
from essays.upload import process_upload
from essays.validate import Limits
from services.process import limits_from

METADATA = sa.MetaData()
ESSAYS = sa.Table(
    "plain_chord_essays",
    METADATA,
    sa.Column("run", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("content_hash", sa.String(128), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("analysis", sa.JSON, nullable=False),
)
REPORTS = sa.Table(
    "plain_chord_reports",
    METADATA,
    sa.Column("run", sa.String(32), primary_key=True),
    sa.Column("essays", sa.Integer, nullable=False),
    sa.Column("words", sa.Integer, nullable=False),
)

app = celery.Celery(
    "plain_chord",
    broker=os.environ.get("PLAIN_BROKER_URL", "redis://127.0.0.1:6379/0"),
    backend=os.environ.get("PLAIN_BACKEND_URL", "redis://127.0.0.1:6379/0"),
)
app.conf.update(
    task_default_queue=os.environ.get("PLAIN_QUEUE", "plain-chord"),
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
)


@cache
def engine() -> sa.Engine:
    """One engine per worker process, created on first use (after the prefork fork)."""
    url = os.environ.get("PLAIN_DATABASE_URL", "sqlite://")
    connect_args = {"timeout": 30} if url.startswith("sqlite") else {}
    return sa.create_engine(url, connect_args=connect_args)


def create_tables(url: str) -> None:
    """Create the two tables in the database at `url` (the bench calls this before the run)."""
    METADATA.create_all(sa.create_engine(url))


def drop_tables(url: str) -> None:
    """Drop the two tables again."""
    METADATA.drop_all(sa.create_engine(url))


@cache
def limits() -> Limits:
    """The essay rules from the `ELS_*` settings, read once per process."""
    return limits_from(Settings())


@app.task(name="plain.essay")
def essay(run: str, name: str, data: str, language: str) -> int:
    """Extract, validate, hash and analyse one upload, store its row; the essay's word count."""
    processed = process_upload(base64.b64decode(data), name, limits())
    analysis = analyse_text(processed.text, language)
    with engine().begin() as connection:
        connection.execute(
            ESSAYS.insert().values(
                run=run,
                name=name,
                content_hash=processed.content_hash,
                text=processed.text,
                analysis=analysis.to_json(),
            )
        )
    return processed.metrics.words


@app.task(name="plain.report")
def report(words: list[int], run: str) -> int:
    """Write the run's one report row; the number of essays it covers."""
    with engine().begin() as connection:
        connection.execute(REPORTS.insert().values(run=run, essays=len(words), words=sum(words)))
    return len(words)


def batch(run: str, uploads: list[tuple[str, bytes]], language: str = "en") -> AsyncResult[int]:
    """Send the chord for `uploads` (name, bytes); its result is the report's essay count."""
    header = [essay.s(run, name, base64.b64encode(data).decode(), language) for name, data in uploads]
    return celery.chord(header)(report.s(run))
