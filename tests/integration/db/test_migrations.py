"""The migrations alone build the schema, on PostgreSQL and SQLite, and match the models exactly."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import JSON, Column, Engine, Integer, LargeBinary, MetaData, column, inspect, table, text

from db.blobs import LocalBlobStore
from db.columns import UtcDateTime
from db.engine import create_db_engine
from db.migrate import current, downgrade, head, upgrade
from db.models import Base
from els.ids import scoped_id
from tests.integration.db.builders import T0
from tests.integration.db.conftest import fresh_postgres_database

TABLES = {
    "batches",
    "contents",
    "uploads",
    "submissions",
    "essays",
    "failures",
    "outbox_events",
    "retired_batches",
    "webhook_endpoints",
    "batch_webhooks",
    "webhook_deliveries",
}


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with fresh_postgres_database() as url:
        yield url


def drift(engine: Engine, metadata: MetaData) -> list[object]:
    """What autogenerate would change to make the database match `metadata`."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_migrations_build_every_table_from_empty(empty_database_url: str) -> None:
    assert current(empty_database_url) is None
    upgrade(empty_database_url)
    assert current(empty_database_url) == head()
    engine = create_db_engine(empty_database_url)
    try:
        assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrading_at_head_again_changes_nothing(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    upgrade(empty_database_url)
    assert current(empty_database_url) == head()


def test_downgrade_to_base_and_up_again_round_trips(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    downgrade(empty_database_url, "base")
    engine = create_db_engine(empty_database_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(empty_database_url)
        assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
    finally:
        engine.dispose()


def test_models_and_migrations_do_not_drift(migrated_engine: Engine) -> None:
    assert drift(migrated_engine, Base.metadata) == []


def test_drift_check_sees_a_column_the_migrations_lack(migrated_engine: Engine) -> None:
    # The check above must be able to fail: a model column no migration adds is reported.
    metadata = MetaData(naming_convention=Base.metadata.naming_convention)
    for model_table in Base.metadata.sorted_tables:
        model_table.to_metadata(metadata)
    metadata.tables["essays"].append_column(Column("grade", Integer, nullable=True))
    changes = drift(migrated_engine, metadata)
    assert [change[0] for change in changes if isinstance(change, tuple)] == ["add_column"]


BATCHES = table(
    "batches",
    *(
        column(name)
        for name in ("batch_id", "owner", "expected_count", "language", "correlation_id", "state")
    ),
    column("essay_ids", JSON()),
    column("metadata", JSON()),
    column("deadline_at", UtcDateTime()),
    column("registered_at", UtcDateTime()),
)
CONTENTS = table(
    "contents",
    column("sha256"),
    column("data", LargeBinary()),
    column("size"),
    column("created_at", UtcDateTime()),
)
SUBMISSIONS = table(
    "submissions",
    *(
        column(name)
        for name in (
            "submission_id",
            "batch_id",
            "filename",
            "media_type",
            "upload_sha256",
            "text_sha256",
            "state",
            "correlation_id",
        )
    ),
    column("created_at", UtcDateTime()),
    column("updated_at", UtcDateTime()),
)


def test_0007_moves_every_upload_out_of_sql_into_the_blob_store_and_back(
    empty_database_url: str, tmp_path: Path
) -> None:
    store = tmp_path / "blobs"
    upgrade(empty_database_url, "0006")
    upload, text_too = b"%PDF-1.4 a student's file", b"An essay that is its own text."
    sha = {data: hashlib.sha256(data).hexdigest() for data in (upload, text_too)}
    engine = create_db_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                BATCHES.insert(),
                [
                    {
                        "batch_id": "b1",
                        "owner": "alice",
                        "expected_count": 2,
                        "essay_ids": ["e1", "e2"],
                        "language": "en",
                        "deadline_at": T0,
                        "correlation_id": "c",
                        "metadata": {},
                        "state": "open",
                        "registered_at": T0,
                    }
                ],
            )
            connection.execute(
                CONTENTS.insert(),
                [{"sha256": sha[data], "data": data, "size": len(data), "created_at": T0} for data in sha],
            )
            # One upload whose text is stored apart, one txt upload that is its own text.
            connection.execute(
                SUBMISSIONS.insert(),
                [
                    {
                        "submission_id": f"s{n}",
                        "batch_id": "b1",
                        "filename": "f",
                        "media_type": "text/plain",
                        "upload_sha256": sha[data],
                        "text_sha256": text_sha,
                        "state": "received",
                        "correlation_id": "c",
                        "created_at": T0,
                        "updated_at": T0,
                    }
                    for n, (data, text_sha) in enumerate(((upload, None), (text_too, sha[text_too])))
                ],
            )
        upgrade(empty_database_url, "0007", blob_store=str(store))
        with engine.connect() as connection:
            rows: dict[str, str] = {
                str(sha256): str(key)
                for sha256, key in connection.execute(text("SELECT sha256, blob_key FROM uploads"))
            }
            texts = set(connection.scalars(text("SELECT sha256 FROM contents")))
        assert set(rows) == set(sha.values())
        blobs = LocalBlobStore(store)
        assert {blobs.get(rows[sha[data]]) for data in (upload, text_too)} == {upload, text_too}
        assert texts == {sha[text_too]}  # the text stays; the upload's bytes left SQL

        downgrade(empty_database_url, "0006", blob_store=str(store))
        with engine.connect() as connection:
            back = {bytes(data) for _, data in connection.execute(text("SELECT sha256, data FROM contents"))}
        assert back == {upload, text_too}
    finally:
        engine.dispose()


def _insert_finished_batches(engine: Engine) -> None:
    # At 0007: alice's DONE batch with a filled slot, a failed one and a report; bob's cancelled one.
    rows = {
        "batches": [
            {"batch_id": "b1", "owner": "alice", "essay_ids": '["e1", "e2"]', "state": "done"},
            {"batch_id": "b2", "owner": "bob", "essay_ids": '["b2-001"]', "state": "cancelled"},
        ],
    }
    with engine.begin() as connection:
        for batch in rows["batches"]:
            connection.execute(
                text(
                    "INSERT INTO batches (batch_id, owner, expected_count, essay_ids, language, deadline_at,"
                    " correlation_id, metadata, state, registered_at, report) VALUES (:batch_id, :owner, 2,"
                    " :essay_ids, 'en', :at, 'c', '{}', :state, :at, :report)"
                ),
                {**batch, "at": T0, "report": '{"essays": [{"essay_id": "e1", "filename": "e2"}]}'},
            )
        connection.execute(
            text("INSERT INTO uploads (sha256, blob_key, size, created_at) VALUES ('h', 'k', 1, :at)"),
            {"at": T0},
        )
        connection.execute(
            text(
                "INSERT INTO submissions (submission_id, batch_id, filename, media_type, upload_sha256,"
                " state, essay_id, correlation_id, created_at, updated_at)"
                " VALUES ('s1', 'b1', 'f', 't', 'h', 'ready', 'e1', 'c', :at, :at)"
            ),
            {"at": T0},
        )
        for position, (essay_id, batch_id) in enumerate((("e1", "b1"), ("e2", "b1"), ("b2-001", "b2"))):
            connection.execute(
                text(
                    "INSERT INTO essays (essay_id, batch_id, position, state, created_at, updated_at,"
                    " submission_id) VALUES (:essay_id, :batch_id, :position, 'analysed', :at, :at, :s)"
                ),
                {
                    "essay_id": essay_id,
                    "batch_id": batch_id,
                    "position": position,
                    "at": T0,
                    "s": "s1" if essay_id == "e1" else None,
                },
            )
        connection.execute(
            text(
                "INSERT INTO failures (submission_id, batch_id, essay_id, code, detail, created_at)"
                " VALUES ('s1', 'b1', 'e2', 'X', 'd', :at)"
            ),
            {"at": T0},
        )


def test_ids_become_owner_scoped_in_every_table_and_go_back_on_downgrade(empty_database_url: str) -> None:
    upgrade(empty_database_url, "0007")
    engine = create_db_engine(empty_database_url)
    alice, bob = scoped_id("alice", ""), scoped_id("bob", "")
    try:
        _insert_finished_batches(engine)
        upgrade(empty_database_url)
        with engine.connect() as connection:
            batches = {row[0] for row in connection.execute(text("SELECT batch_id FROM batches"))}
            essays = {
                (row[0], row[1]) for row in connection.execute(text("SELECT essay_id, batch_id FROM essays"))
            }
            submission = connection.execute(text("SELECT batch_id, essay_id FROM submissions")).one()
            failure = connection.execute(text("SELECT batch_id, essay_id FROM failures")).one()
            report = connection.scalar(text(f"SELECT report FROM batches WHERE batch_id = '{alice}b1'"))
        assert set(batches) == {f"{alice}b1", f"{bob}b2"}
        assert essays == {
            (f"{alice}e1", f"{alice}b1"),
            (f"{alice}e2", f"{alice}b1"),
            (f"{bob}b2-001", f"{bob}b2"),
        }
        assert tuple(submission) == (f"{alice}b1", f"{alice}e1")
        assert tuple(failure) == (f"{alice}b1", f"{alice}e2")
        # The report's essay ids are renamed; a filename that happens to equal an id is not.
        assert f'"essay_id": "{alice}e1"' in str(report).replace("'", '"')
        assert f"{alice}e2" not in str(report)
        keys = {fk["name"] for name in TABLES for fk in inspect(engine).get_foreign_keys(name)}
        assert "fk_failures_essay_id_essays" in keys and "fk_essays_batch_id_batches" in keys

        downgrade(empty_database_url, "0007")
        with engine.connect() as connection:
            back = set(connection.scalars(text("SELECT essay_id FROM essays")))
        assert back == {"e1", "e2", "b2-001"}
    finally:
        engine.dispose()


def test_the_upgrade_refuses_while_a_batch_is_unfinished(empty_database_url: str) -> None:
    upgrade(empty_database_url, "0007")
    engine = create_db_engine(empty_database_url)
    try:
        _insert_finished_batches(engine)
        with engine.begin() as connection:
            connection.execute(text("UPDATE batches SET state = 'open' WHERE batch_id = 'b2'"))
        with pytest.raises(RuntimeError, match="1 batches are not finished"):
            upgrade(empty_database_url)
        assert current(empty_database_url) == "0007"
        with engine.connect() as connection:
            assert set(connection.scalars(text("SELECT batch_id FROM batches"))) == {"b1", "b2"}
    finally:
        engine.dispose()
