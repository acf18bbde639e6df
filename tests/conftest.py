"""Test fixtures: one migrated database per test session, one rolled-back transaction per test.

The database is SQLite by default. Set ``BADGEHUB_TEST_DATABASE_URL`` to a PostgreSQL server URL
(e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``) and the suite creates a throw-away
database on that server, runs every test against it, and drops it at the end.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from badgehub import create_app
from badgehub.credentials.keys import generate_rsa
from badgehub.extensions import db
from badgehub.keys import service as keys_service
from badgehub.verification import fetch as fetch_module

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"
TEST_KEK = "0f" * 32


def base_test_config(database_url: str, instance: Path) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "KEK": TEST_KEK,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": instance,
        "OUTBOX_DIR": instance / "outbox",
        "BASE_URL": "http://localhost",
        "MAIL_BACKEND": "file",
        "REDIS_URL": None,
        "RATELIMIT_STORAGE_URI": "memory://",
    }


def _create_postgres_database(server_url: str, name: str) -> str:
    url = make_url(server_url)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(server_url: str, name: str) -> None:
    admin = create_engine(make_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def migrate(database_url: str, instance: Path) -> None:
    from flask_migrate import upgrade

    app = create_app(base_test_config(database_url, instance))
    with app.app_context():
        upgrade()
        db.engine.dispose()


RSA_POOL_SIZE = 16


@pytest.fixture(scope="session", autouse=True)
def rsa_key_pool() -> Iterator[None]:
    """Organisations' RSA-2048 keys come from a pool of real keys, each made once per test process.

    Making one costs about 0.14 s, and most tests create an organisation. Any 16 keys handed out in a row
    are distinct, so organisations within one test never share a key; Ed25519 keys stay fresh (cheap).
    """
    pool: list[Any] = []
    handed_out = 0
    real_generate = keys_service.generate_rsa

    def pooled(bits: int = 2048) -> Any:
        nonlocal handed_out
        if bits != 2048:
            return generate_rsa(bits)
        if len(pool) < RSA_POOL_SIZE:
            pool.append(real_generate(bits))
        key = pool[handed_out % len(pool)] if len(pool) == RSA_POOL_SIZE else pool[-1]
        handed_out += 1
        return key

    keys_service.generate_rsa = pooled  # type: ignore[assignment]
    yield
    keys_service.generate_rsa = real_generate  # type: ignore[assignment]


@pytest.fixture(scope="session", autouse=True)
def installation_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every test (and every process it starts) reads and writes its own installation config file, never the
    checkout's: `badgehub init` writes the data folder there."""
    path = tmp_path_factory.mktemp("installation") / "badgehub.cfg"
    previous = os.environ.get("BADGEHUB_CONFIG")
    os.environ["BADGEHUB_CONFIG"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("BADGEHUB_CONFIG", None)
    else:
        os.environ["BADGEHUB_CONFIG"] = previous


@pytest.fixture(scope="session")
def fresh_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A factory of migrated, empty databases on the configured backend; each is dropped at the end."""
    server_url = os.environ.get("BADGEHUB_TEST_DATABASE_URL")
    created: list[str] = []
    worker = re.sub(r"\W", "", os.environ.get("PYTEST_XDIST_WORKER", "main"))

    def make() -> str:
        instance = tmp_path_factory.mktemp("migrate")
        if server_url:
            name = f"badgehub_test_{worker}_{secrets.token_hex(4)}"
            url = _create_postgres_database(server_url, name)
            created.append(name)
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'badgehub.db'}"
        migrate(url, instance)
        return url

    yield make
    for name in created:
        assert server_url
        _drop_postgres_database(server_url, name)


@pytest.fixture(scope="session")
def database_url(fresh_database: Any) -> str:
    return str(fresh_database())


@pytest.fixture(scope="session")
def make_app() -> Any:
    """Build a test app on a given database URL with its instance folder at ``path`` (no rollback)."""
    return lambda url, path, **overrides: create_app({**base_test_config(url, path), **overrides})


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """An app whose every session joins one outer transaction, rolled back after the test.

    Flask-SQLAlchemy's session picks its bind from ``db.engines``, not from a ``bind`` option, so the
    test puts its connection there in place of the engine (flask-sqlalchemy #1171); commits inside the
    code under test then only release savepoints.
    """
    application = create_app(base_test_config(database_url, tmp_path))
    with application.app_context():
        engines = db.engines
        engine = engines[None]
        connection = engine.connect()
        transaction = connection.begin()
        engines[None] = connection  # type: ignore[assignment]
    original = db.session
    db.session = db._make_scoped_session({"join_transaction_mode": "create_savepoint"})
    try:
        yield application
    finally:
        with application.app_context():
            db.session.remove()
            db.session = original
            transaction.rollback()
            connection.close()
            engines[None] = engine
            engine.dispose()


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    """An application context, for tests that call services directly."""
    with app.app_context():
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def outbox(app: Flask) -> Any:
    """The messages sent so far through the file outbox of this test's app."""
    from badgehub.mail import read_outbox

    return lambda: read_outbox(Path(app.config["OUTBOX_DIR"]))


CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    """The CSRF token of the first form in a page (tests post forms the way a browser does)."""
    match = CSRF_PATTERN.search(html)
    assert match, "no csrf_token in the page"
    return match.group(1)


@pytest.fixture
def form_token(client: FlaskClient) -> Any:
    """Fetch ``url`` and return its CSRF token: ``form_token('/sign-in')``."""

    def fetch(url: str) -> str:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return csrf_token_from(response.get_data(as_text=True))

    return fetch


def links_in(message: Any) -> list[str]:
    """Every http(s) link in the text part of an e-mail."""
    body = message.get_body(preferencelist=("plain",)).get_content()
    return re.findall(r"https?://\S+", body)


@pytest.fixture
def setup(app: Flask) -> Any:
    """Run ``build`` in its own request context and commit; return its result (plain values travel best)."""

    def run(build: Any) -> Any:
        with app.test_request_context():
            result = build()
            db.session.commit()
            return result

    return run


@pytest.fixture
def query(app: Flask) -> Any:
    """Evaluate ``read`` in a fresh session: what the database holds now, not what a request cached."""

    def run(read: Any) -> Any:
        with app.test_request_context():
            return read()

    return run


def sign_in(client: FlaskClient, session_id: str) -> None:
    """Sign a test client in as the user whose Flask-Login id is ``session_id`` (``user.get_id()``), on a
    device recorded as a real sign-in records it."""
    from badgehub.accounts.models import User
    from badgehub.accounts.sessions import open_session

    with client.application.app_context():
        user = db.session.get(User, int(session_id.partition(":")[0]))
        assert user is not None, session_id
        key = open_session(user, remember=False).key
        db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_sid"] = key
        session["_fresh"] = True


def token_of(client: FlaskClient, url: str) -> str:
    """Fetch ``url`` with ``client`` and return the CSRF token of its first form."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return csrf_token_from(response.get_data(as_text=True))


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """No name resolves, and a connection anywhere but to loopback fails the test; returns the addresses that
    were connected to (a test of the fetcher's refusals asserts it stays empty)."""
    connects: list[Any] = []
    real_connect = socket.socket.connect

    def no_dns(host: str, port: int) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "no name resolution in tests")

    def loopback_only(self: socket.socket, address: Any) -> None:
        connects.append(address)
        if not ipaddress.ip_address(address[0]).is_loopback:
            raise AssertionError(f"network access attempted: {address!r}")
        real_connect(self, address)

    monkeypatch.setattr(fetch_module, "resolve_addresses", no_dns)
    monkeypatch.setattr(socket.socket, "connect", loopback_only)
    return connects
