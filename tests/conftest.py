"""Test fixtures: one migrated database and one app per test process, one rolled-back transaction per test.

Building an app costs about 50 ms (Werkzeug compiles ~170 routes) and throws away its Jinja and SQL compile
caches, so each test process builds one and the ``app`` fixture hands it to every test as it was built: its
configuration, ``app.extensions`` and the rate limiter are put back after each test, its instance folder is the
test's own ``tmp_path``, and a test that leaves rows in the database (a commit outside its transaction) fails.
Tests that need an app built differently use ``make_app``. Tests that use a database fixture are marked ``db``
at collection: ``pytest tests/unit -m "not db"`` runs the pure ones, without any database, in seconds.

The database is SQLite by default. Set ``BADGEHUB_TEST_DATABASE_URL`` to a PostgreSQL server URL
(e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``) and the suite creates a throw-away
database on that server, runs every test against it, and drops it at the end.
"""

from __future__ import annotations

import copy
import dataclasses
import ipaddress
import os
import re
import secrets
import shutil
import socket
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import String, create_engine, func, literal, select, text, union_all
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import InstanceState

from badgehub import config as config_module
from badgehub import create_app, jobs
from badgehub.accounts import service as accounts_service
from badgehub.achievements import images
from badgehub.credentials.keys import generate_rsa
from badgehub.extensions import db, limiter
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
        # Batches of two or more go to the signing pool, so that the batch tests run the parallel path.
        "SIGNING_POOL_FROM": 2,
    }


def _create_postgres_database(server_url: str, name: str, template: str | None = None) -> str:
    url = make_url(server_url)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
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


DATABASE_FIXTURES = frozenset({"app", "shared_app", "database_url", "fresh_database", "make_app"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``db`` every test that needs a database, through any of its fixtures (``-m "not db"``: pure)."""
    for item in items:
        if DATABASE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


@pytest.fixture(scope="session", autouse=True)
def crash_children_server() -> Iterator[None]:
    """The server that forks the crash tests' children (``tests/children.py``) ends with the test process."""
    yield
    from tests import children

    children.stop_server()


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


_drawings: dict[Any, Any] = {}
_draw_from_cache = [False]


@pytest.fixture(scope="session", autouse=True)
def drawing_cache() -> Iterator[None]:
    """Generated badge images are drawn once per design and test process, for the tests that use a database.

    Drawing one costs about 0.2 s (four times larger, then reduced, then PNG-encoded), and the same design gives
    the same bytes, so the worlds the tests build reuse them. The pure tests of the drawing itself (no database)
    always draw: their checks of determinism and of the pixels see the real thing.
    """
    real_generate = images.generate

    def cached(design: Any) -> Any:
        if not _draw_from_cache[0]:
            return real_generate(design)
        if design not in _drawings:
            _drawings[design] = real_generate(design)
        made = _drawings[design]
        return dataclasses.replace(made, params=dict(made.params))

    images.generate = cached  # type: ignore[assignment]
    yield
    images.generate = real_generate  # type: ignore[assignment]


@pytest.fixture(autouse=True)
def _drawings_for_database_tests(request: pytest.FixtureRequest) -> Iterator[None]:
    _draw_from_cache[0] = request.node.get_closest_marker("db") is not None
    yield
    _draw_from_cache[0] = False


TEST_PASSWORD_HASH_METHOD = "scrypt:1024:8:1"


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[str]:
    """Passwords are hashed with real scrypt at a 32 times lower cost (about 3 ms instead of 0.1 s): some tests
    create several accounts with passwords. Yields the production method, which
    ``test_passwords_are_hashed_with_scrypt_at_its_production_cost`` checks."""
    production = accounts_service.PASSWORD_HASH_METHOD
    accounts_service.PASSWORD_HASH_METHOD = TEST_PASSWORD_HASH_METHOD
    accounts_service._dummy_hash.cache_clear()
    yield production
    accounts_service.PASSWORD_HASH_METHOD = production
    accounts_service._dummy_hash.cache_clear()


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
    """A factory of migrated, empty databases on the configured backend; each is dropped at the end.

    The first call runs the Alembic migrations into a template; every database handed out is a copy of it (a
    file copy on SQLite, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL): the same schema, for about a
    thousandth of the half second a migration run costs. Tests of the migrations themselves downgrade and
    upgrade their copy.
    """
    server_url = os.environ.get("BADGEHUB_TEST_DATABASE_URL")
    created: list[str] = []
    worker = re.sub(r"\W", "", os.environ.get("PYTEST_XDIST_WORKER", "main"))
    template: list[Any] = []

    def migrated_template() -> Any:
        if not template:
            if server_url:
                name = f"badgehub_template_{worker}_{secrets.token_hex(4)}"
                url = _create_postgres_database(server_url, name)
                created.append(name)
                migrate(url, tmp_path_factory.mktemp("migrate"))
                template.append(name)
            else:
                path = tmp_path_factory.mktemp("template") / "badgehub.db"
                migrate(f"sqlite:///{path}", tmp_path_factory.mktemp("migrate"))
                template.append(path)
        return template[0]

    def make() -> str:
        source = migrated_template()
        if server_url:
            name = f"badgehub_test_{worker}_{secrets.token_hex(4)}"
            url = _create_postgres_database(server_url, name, template=source)
            created.insert(0, name)  # dropped before the template
            return url
        path = tmp_path_factory.mktemp("db") / "badgehub.db"
        shutil.copyfile(source, path)
        return f"sqlite:///{path}"

    yield make
    for name in created:
        assert server_url
        _drop_postgres_database(server_url, name)


@pytest.fixture(scope="session")
def database_url(fresh_database: Any) -> str:
    return str(fresh_database())


@pytest.fixture
def make_app() -> Iterator[Any]:
    """Build a test app on a given database URL with its instance folder at ``path`` (no rollback). The threads
    the apps started (job worker, sweeper) stop with the test: left running, they would poll databases that the
    end of the session drops, and log errors."""
    built: list[Flask] = []

    def build(url: str, path: Any, **overrides: Any) -> Flask:
        application = create_app({**base_test_config(url, path), **overrides})
        built.append(application)
        return application

    yield build
    for application in built:
        _stop_threads(application, keep={})


def _stop_threads(application: Flask, keep: dict[str, Any]) -> None:
    """Stop the job worker and sweeper of ``application`` unless they are the ones in ``keep``."""
    for key in (jobs.EXTENSION, jobs.SWEEPER):
        started = application.extensions.get(key)
        if started is not None and keep.get(key) is not started:
            started.stop()


@dataclass
class _Pristine:
    """What the ``app`` fixture puts back after each test: the state of the shared app as built."""

    config: dict[str, Any]
    extensions: dict[str, Any]
    limiter: dict[str, Any]
    rows: dict[str, int]

    @classmethod
    def of(cls, application: Flask) -> _Pristine:
        with application.app_context():
            rows = _row_counts(db.engine)
        state = dict(vars(limiter))
        state["_storage_options"] = dict(state["_storage_options"])
        return cls(copy.deepcopy(dict(application.config)), dict(application.extensions), state, rows)

    def restore(self, application: Flask) -> None:
        # Threads a test started (the in-process job worker, the sweeper) stop with it.
        _stop_threads(application, keep=self.extensions)
        application.config.clear()
        application.config.update(copy.deepcopy(self.config))
        application.extensions.clear()
        application.extensions.update(self.extensions)
        # One Limiter serves every app, and each create_app (make_app) configures it again: back to ours,
        # counting from zero.
        vars(limiter).clear()
        vars(limiter).update({**self.limiter, "_storage_options": dict(self.limiter["_storage_options"])})
        limiter.reset()


_COUNT_SQL: dict[str, str] = {}


def _row_counts(bind: Any) -> dict[str, int]:
    """Rows per table, in one query (compiled once per dialect: building and compiling the union of ~100
    selects cost more than running it, after every test)."""
    dialect = bind.dialect
    if dialect.name not in _COUNT_SQL:
        counts = union_all(*(select(literal(table.name, String).label("name"), func.count().label("rows"))
                             .select_from(table) for table in db.metadata.sorted_tables))
        _COUNT_SQL[dialect.name] = str(counts.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    with bind.connect() as connection:
        return {name: rows for name, rows in connection.execute(text(_COUNT_SQL[dialect.name]))}


def leaked_rows(bind: Any, expected: dict[str, int]) -> dict[str, int]:
    """The tables whose row count differs from ``expected``, with their count now."""
    return {name: rows for name, rows in _row_counts(bind).items() if rows != expected[name]}


def fail_on_leaked_rows(bind: Any, expected: dict[str, int], where: str) -> None:
    """Fail the test if it left rows in ``bind`` (committed outside its transaction); ``expected`` then takes the
    new counts, so that this test fails, not every one after it."""
    leaked = leaked_rows(bind, expected)
    if leaked:
        expected.update(leaked)
        pytest.fail(f"the test left rows in {where} (committed outside its transaction): {leaked}")


@pytest.fixture(scope="session")
def shared_app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, _Pristine]]:
    """The app of this test process (one per pytest-xdist worker), with its state as built."""
    application = create_app(base_test_config(database_url, tmp_path_factory.mktemp("app")))
    yield application, _Pristine.of(application)
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def app(request: pytest.FixtureRequest, shared_app: tuple[Flask, _Pristine], database_url: str,
        tmp_path: Path) -> Iterator[Flask]:
    """The shared app, as built, whose every session joins one outer transaction, rolled back after the test.

    Flask-SQLAlchemy's session picks its bind from ``db.engines``, not from a ``bind`` option, so the
    test puts its connection there in place of the engine (flask-sqlalchemy #1171); commits inside the
    code under test then only release savepoints. Afterwards the configuration, ``app.extensions`` (caches,
    fetchers, workers) and the rate limiter are put back, and rows still in the database fail the test.
    A test marked ``own_app`` (it adds routes, which an app that has served a request refuses) gets an app
    built for it instead, in the same transaction.
    """
    application, pristine = shared_app
    # Also before: a test that built its own app (make_app, a live server) configured the one Limiter again.
    pristine.restore(application)
    if request.node.get_closest_marker("own_app"):
        application = create_app(base_test_config(database_url, tmp_path))
    application.config.update(INSTANCE_PATH=tmp_path, OUTBOX_DIR=tmp_path / "outbox",
                              KEYS_DIR=config_module.keys_dir_for(tmp_path))
    application.instance_path = str(tmp_path)
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
        if application is shared_app[0]:
            pristine.restore(application)
        else:
            engine.dispose()
            pristine.restore(shared_app[0])  # the limiter, configured again by this test's create_app
        fail_on_leaked_rows(engine, pristine.rows, "the shared database")


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


@dataclass
class _Snapshot:
    """A world built once and committed into a database of its own (see ``snapshot``)."""

    engine: Any
    result: Any
    rows: dict[str, int]


@pytest.fixture(scope="session")
def _snapshots(fresh_database: Any) -> Iterator[dict[str, _Snapshot]]:
    built: dict[str, _Snapshot] = {}
    yield built
    for made in built.values():
        made.engine.dispose()


@pytest.fixture
def snapshot(app: Flask, _snapshots: dict[str, _Snapshot], fresh_database: Any) -> Iterator[Any]:
    """Like ``setup``, for a world that costs seconds to build and that several tests read: ``build`` runs once
    per test process, committed into a database of its own, and each test that asks for it runs on that
    database inside a transaction rolled back afterwards, as ``app`` uses the shared database.

    ``build`` is a module-level function (its name is the key). What it returns comes back to each test with
    its database objects loaded again in the test's session (in dataclasses, lists and dicts) and everything
    else copied. The test may write: what it writes is gone after it, and rows it commits outside its
    transaction fail it, as with ``app``.
    """
    used: list[tuple[Any, Any, Any, _Snapshot]] = []

    def use(build: Any) -> Any:
        assert not used, "one snapshot per test"
        assert build.__closure__ is None and "<locals>" not in build.__qualname__, \
            "a snapshot's build is a module-level function: its name is the key of what it built"
        key = f"{build.__module__}.{build.__qualname__}"
        # In the test's application context when it has one (``ctx``): its session is the one to load into.
        with nullcontext() if has_app_context() else app.app_context():
            engines = db.engines
            db.session.remove()
            shared_connection = engines[None]
            if key not in _snapshots:
                engine = create_engine(fresh_database(), **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
                engines[None] = engine
                try:
                    with app.test_request_context():
                        result = build()
                        db.session.commit()
                    db.session.remove()
                finally:
                    engines[None] = shared_connection
                _snapshots[key] = _Snapshot(engine, result, _row_counts(engine))
            made = _snapshots[key]
            connection = made.engine.connect()
            transaction = connection.begin()
            engines[None] = connection
            used.append((shared_connection, connection, transaction, made))
            return _loaded_again(made.result)

    yield use
    if used:
        shared_connection, connection, transaction, made = used[0]
        with nullcontext() if has_app_context() else app.app_context():
            db.session.remove()
            transaction.rollback()
            connection.close()
            db.engines[None] = shared_connection
        fail_on_leaked_rows(made.engine, made.rows, "its snapshot's database")


def _loaded_again(value: Any) -> Any:
    """``value`` with each database object in it replaced by the same row loaded in the current session."""
    state = sa_inspect(value, raiseerr=False)
    if isinstance(state, InstanceState):
        return db.session.get(type(value), state.identity)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{field.name: _loaded_again(getattr(value, field.name))
                                             for field in dataclasses.fields(value) if field.init})
    if isinstance(value, (list, tuple)):
        return type(value)(_loaded_again(item) for item in value)
    if isinstance(value, dict):
        return {key: _loaded_again(item) for key, item in value.items()}
    return copy.deepcopy(value)


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
