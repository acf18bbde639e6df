"""Each test runs in its own rolled-back transaction, even when the code under test commits, on the app of its
test process put back as it was built."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, delete, func, select
from sqlalchemy.orm import Session

from badgehub.accounts.models import User
from badgehub.accounts.service import create_user
from badgehub.extensions import db, limiter
from badgehub.fields import email_key
from tests.conftest import leaked_rows


@pytest.mark.parametrize("attempt", [1, 2])
def test_committed_rows_do_not_leak_into_the_next_test(ctx, attempt):
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email_key == "leak@example.org")) == 0
    create_user("leak@example.org")
    db.session.commit()
    assert isinstance(db.session.get_bind(), Connection)


@pytest.mark.parametrize("attempt", [1, 2])
def test_configuration_extensions_and_rate_limits_do_not_leak_into_the_next_test(app, tmp_path, attempt):
    assert "LEAKED" not in app.config and "leaked" not in app.extensions
    assert limiter.storage.get("leaked") == 0
    assert app.config["INSTANCE_PATH"] == tmp_path and app.config["OUTBOX_DIR"] == tmp_path / "outbox"
    app.config["LEAKED"] = attempt
    app.extensions["leaked"] = attempt
    limiter.storage.incr("leaked", 60)


def test_rows_committed_outside_the_tests_transaction_are_found(shared_app):
    application, pristine = shared_app
    with application.app_context():
        engine = db.engine
    with Session(engine) as session:
        session.add(User(email="escaped@example.org", email_key=email_key("escaped@example.org"), name=""))
        session.commit()
    try:
        assert leaked_rows(engine, pristine.rows) == {"users": pristine.rows["users"] + 1}
    finally:
        with Session(engine) as session:
            session.execute(delete(User).where(User.email_key == "escaped@example.org"))
            session.commit()
    assert leaked_rows(engine, pristine.rows) == {}
