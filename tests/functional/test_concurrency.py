"""The embedded database under real concurrency, and the error page when the database fails.

Regressions: 30 concurrent ``POST /api/v1/credentials`` on SQLite gave 21 HTTP 500 ("database is locked"); during
that contention the error handler hit PendingRollbackError and some pages were Werkzeug's bare 500.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from badgehub import create_app
from badgehub.extensions import db
from badgehub.issuing.models import IssuedCredential
from tests.conftest import base_test_config
from tests.functional.api_helpers import build_api_world


@pytest.fixture
def committed_app(fresh_database: Any, tmp_path: Path) -> Iterator[Flask]:
    """An app on a database of its own: threads see what the others commit."""
    app = create_app(base_test_config(str(fresh_database()), tmp_path))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_thirty_concurrent_api_awards_all_succeed(committed_app):
    app = committed_app
    app.config["RATELIMIT_ENABLED"] = False
    with app.test_request_context():
        world = build_api_world()
        db.session.commit()
    answers: list[int] = []
    start = threading.Barrier(30)

    def award(number: int) -> None:
        client = app.test_client()
        start.wait()
        response = client.post("/api/v1/credentials", headers={"Authorization": f"Bearer {world['token_a']}"},
                               json={"achievement": world["repair"],
                                     "recipient": {"email": f"c{number}@example.net", "name": f"C {number}"}})
        answers.append(response.status_code)

    threads = [threading.Thread(target=award, args=(number,)) for number in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [201] * 30
    with app.app_context():
        assert db.session.scalar(select(func.count(IssuedCredential.id))) == 30


@pytest.mark.own_app
def test_a_transient_database_error_is_tried_again(app):
    failures = []

    @app.post("/flaky-for-test")
    def flaky() -> str:
        db.session.execute(text("SELECT 1"))
        if len(failures) < 2:
            failures.append(1)
            raise OperationalError("UPDATE x", {}, Exception("database is locked"))
        return "done"

    app.config["WTF_CSRF_ENABLED"] = False
    response = app.test_client().post("/flaky-for-test")
    assert response.status_code == 200 and response.get_data(as_text=True) == "done"
    assert len(failures) == 2


@pytest.mark.own_app
def test_a_reading_request_that_lost_the_race_to_write_takes_the_lock_when_tried_again(app):
    from badgehub import db as db_module

    intents = []

    @app.get("/reads-then-writes-for-test")
    def reads_then_writes() -> str:
        intents.append(db_module._WRITE_INTENT.get())
        if len(intents) == 1:
            raise OperationalError("UPDATE x", {}, Exception("database is locked"))
        return "done"

    assert app.test_client().get("/reads-then-writes-for-test").status_code == 200
    assert intents == [False, True]


@pytest.mark.own_app
def test_a_request_that_committed_is_not_run_twice(app):
    runs = []

    @app.post("/commits-then-fails-for-test")
    def commits_then_fails() -> str:
        runs.append(1)
        db.session.commit()
        raise OperationalError("UPDATE x", {}, Exception("database is locked"))

    app.config["WTF_CSRF_ENABLED"] = False
    response = app.test_client().post("/commits-then-fails-for-test")
    assert response.status_code == 500
    assert len(runs) == 1


@pytest.mark.own_app
def test_the_error_page_is_ours_after_a_failed_transaction(app, client):
    from badgehub.accounts.service import create_user
    from tests.conftest import sign_in

    @app.get("/broken-transaction-for-test")
    def broken() -> str:
        # A failed flush leaves the session needing a rollback; the page of the error then reads the user.
        db.session.execute(text("SELECT 1"))
        raise OperationalError("INSERT x", {}, Exception("disk I/O error"))

    with app.test_request_context():
        user = create_user("broken@example.org", name="Broken", verified=True)
        db.session.commit()
        session_id = user.get_id()
    sign_in(client, session_id)
    response = client.get("/broken-transaction-for-test")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Something went wrong on our side" in body
    assert "Traceback" not in body and "disk I/O error" not in body


def test_the_error_page_is_ours_even_when_the_layout_cannot_render(app, monkeypatch):
    import badgehub.errors as errors

    def failing_render(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("the database is gone")

    monkeypatch.setattr(errors, "render_template", failing_render)
    response = app.test_client().get("/no/such/page")
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "<h1>404</h1>" in body and "This page does not exist" in body


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(committed_app):
    with committed_app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite only")
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def _lock_free_elsewhere(engine: Any, organisation_id: int) -> bool:
    """Whether another connection can take, at once, the lock an award's store takes: SQLite's write lock, or
    the row lock of the organisation's status list (PostgreSQL)."""
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()  # the driver's own: no BEGIN of SQLAlchemy's before ours
        try:
            raw.execute("PRAGMA busy_timeout=0")
            try:
                raw.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:
                return False
            raw.execute("ROLLBACK")
            return True
        finally:
            raw.close()
    with engine.connect() as other:
        other.execute(text("SET lock_timeout = '1ms'"))
        try:
            other.execute(text("SELECT id FROM status_lists WHERE organisation_id = :org FOR UPDATE"),
                          {"org": organisation_id})
        except OperationalError:
            return False
        finally:
            other.rollback()
        return True


def _after_a_first_award(app: Any) -> tuple[dict[str, Any], Any, dict[str, str]]:
    """The API world committed and one award made through the API, so that the organisation's status list
    exists; returns the world, a client and the token's headers."""
    app.config["RATELIMIT_ENABLED"] = False
    with app.test_request_context():
        world = build_api_world()
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {world['token_a']}"}
    first = client.post("/api/v1/credentials", headers=headers,
                        json={"achievement": world["repair"], "recipient": {"email": "first@example.net"}})
    assert first.status_code == 201
    return world, client, headers


def test_a_single_award_signs_and_writes_its_email_without_holding_the_write_lock(committed_app, monkeypatch):
    from badgehub.credentials import vc_jwt
    from badgehub.mails import awards

    app = committed_app
    world, client, headers = _after_a_first_award(app)
    with app.app_context():
        engine = db.engine
    seen: dict[str, bool] = {}
    real_sign, real_mail = vc_jwt.sign_vc_jwt, awards.recipient_mail

    def sign_vc_jwt(*args: Any, **kwargs: Any) -> Any:
        seen["signing"] = _lock_free_elsewhere(engine, world["org_a_id"])
        return real_sign(*args, **kwargs)

    def recipient_mail(*args: Any, **kwargs: Any) -> Any:
        seen["mail"] = _lock_free_elsewhere(engine, world["org_a_id"])
        return real_mail(*args, **kwargs)

    monkeypatch.setattr(vc_jwt, "sign_vc_jwt", sign_vc_jwt)
    monkeypatch.setattr(awards, "recipient_mail", recipient_mail)
    second = client.post("/api/v1/credentials", headers=headers,
                         json={"achievement": world["repair"], "recipient": {"email": "second@example.net"}})
    assert second.status_code == 201 and second.get_json()["email_sent"] is True
    assert seen == {"signing": True, "mail": True}


def test_a_single_award_whose_index_was_taken_meanwhile_is_issued_once_with_its_own_email(committed_app,
                                                                                           monkeypatch):
    from email import policy
    from email.parser import BytesParser

    from badgehub.credentials.baking import extract_from_png
    from badgehub.credentials.status_list import set_bit
    from badgehub.issuing import bulk
    from badgehub.outbox.models import OutboxMessage

    app = committed_app
    world, client, headers = _after_a_first_award(app)
    with app.app_context():
        engine = db.engine
    planned: dict[str, Any] = {}
    real_sign = bulk.sign

    def sign(prepared: Any, *args: Any, **kwargs: Any) -> None:
        real_sign(prepared, *args, **kwargs)
        item = prepared.planned[0]
        planned.update(index=item.index, public_id=item.public_id)
        # Between the plan and the store, another issuer takes the planned index (its bit set, as a revoked
        # credential's is): the write lock is free, so it commits.
        with engine.begin() as other:
            bits = other.execute(text("SELECT bits FROM status_lists WHERE id = :id"),
                                 {"id": prepared.status_list_id}).scalar_one()
            other.execute(text("UPDATE status_lists SET bits = :bits WHERE id = :id"),
                          {"bits": set_bit(bytes(bits), item.index), "id": prepared.status_list_id})

    monkeypatch.setattr(bulk, "sign", sign)
    second = client.post("/api/v1/credentials", headers=headers,
                         json={"achievement": world["repair"], "recipient": {"email": "second@example.net"}})
    assert second.status_code == 201 and second.get_json()["email_sent"] is True
    with app.app_context():
        credential = db.session.scalars(select(IssuedCredential).where(
            IssuedCredential.recipient_email == "second@example.net")).one()
        # Issued again alone, on another index, and its e-mail written for what was stored, not for the plan.
        assert credential.public_id != planned["public_id"] and credential.status_index != planned["index"]
        messages = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient_key == "second@example.net")).all()
        assert [message.ref for message in messages] == [f"credential:{credential.public_id}"]
        mail = BytesParser(policy=policy.default).parsebytes(messages[0].message)
        badge, _wallet_app_qr = list(mail.iter_attachments())
        assert badge.get_filename() == f"badge-{credential.public_id}.png"
        assert extract_from_png(badge.get_content()).payload == credential.document_json
