"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, insert, text
from sqlalchemy.exc import DBAPIError

import badgehub.models  # noqa: F401
from badgehub.audit.models import AuditEvent
from badgehub.db import db, utcnow


def test_upgrade_from_empty_leaves_no_difference_with_models(fresh_database):
    engine = create_engine(fresh_database())
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_downgrade_to_base_and_upgrade_again(fresh_database, make_app, tmp_path):
    from flask_migrate import downgrade, upgrade

    app = make_app(fresh_database(), tmp_path)
    with app.app_context():
        downgrade(revision="base")
        with db.engine.connect() as connection:
            tables = set(db.inspect(connection).get_table_names()) - {"alembic_version"}
        assert tables == set()
        upgrade()
        with db.engine.connect() as connection:
            assert "audit_events" in db.inspect(connection).get_table_names()
        db.engine.dispose()


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET action = 'forged'", "DELETE FROM audit_events"])
def test_database_refuses_to_change_audit_events(fresh_database, statement):
    engine = create_engine(fresh_database())
    try:
        with engine.begin() as connection:
            connection.execute(insert(AuditEvent.__table__).values(
                occurred_at=utcnow(), action="test.recorded", details={}))
        with pytest.raises(DBAPIError), engine.begin() as connection:
            connection.execute(text(statement))
        with engine.connect() as connection:
            assert connection.execute(text("SELECT action FROM audit_events")).scalars().all() == ["test.recorded"]
    finally:
        engine.dispose()


def test_the_outboxs_message_bytes_are_stored_uncompressed_on_postgresql(fresh_database):
    # Base64 of PNG images: pglz spends more time failing to compress it than the insert takes without it.
    engine = create_engine(fresh_database())
    try:
        if engine.dialect.name != "postgresql":
            pytest.skip("a PostgreSQL storage setting")
        with engine.connect() as connection:
            storage = connection.scalar(text("SELECT attstorage FROM pg_attribute "
                                             "WHERE attrelid = 'mail_outbox_bodies'::regclass AND attname = 'raw'"))
    finally:
        engine.dispose()
    assert storage == "e"
