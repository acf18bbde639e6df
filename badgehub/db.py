"""The database layer: declarative base with a naming convention, shared column types, ``db``."""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any, TypeVar

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, Engine, Enum, MetaData, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase, registry
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite has no time zones; PostgreSQL would convert on its own. Storing naive UTC everywhere and
    re-attaching UTC on the way out gives the same behaviour on both.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass a timezone-aware value")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    # Given as a registry because Flask-SQLAlchemy subclasses the base, and SQLAlchemy refuses a
    # per-subclass type_annotation_map.
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={dt.datetime: UTCDateTime()},
    )


db = SQLAlchemy(model_class=Base)


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT (and so per-test rollbacks) and leaves foreign
    # keys off; take over as the SQLAlchemy documentation recommends.
    module = type(dbapi_connection).__module__
    if module.startswith("sqlite3"):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # WAL: readers never wait for the writer nor block it, so pages keep answering while a batch issues.
        # (An in-memory database answers "memory" and stays as it is.) NORMAL is durable in WAL mode except
        # against a power cut, where the last transactions may be lost but the file stays sound.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


# Long enough for a queue of writers on a busy machine: a wait is better than an error.
SQLITE_BUSY_TIMEOUT_MS = 30_000

# Whether the transactions of this context will write (a POST, a job) or mostly read (a GET, a script). Not
# writing is the default: a reader that took the write lock would queue behind every writer, and starve.
_WRITE_INTENT: ContextVar[bool] = ContextVar("badgehub_write_intent", default=False)


def set_write_intent(writes: bool) -> Token[bool]:
    """Say whether the transactions begun from now on in this context may write (see :func:`_sqlite_begin`);
    returns the token that :func:`reset_write_intent` takes."""
    return _WRITE_INTENT.set(writes)


def reset_write_intent(token: Token[bool]) -> None:
    _WRITE_INTENT.reset(token)


@contextmanager
def writing() -> Iterator[None]:
    """Within this block, transactions take SQLite's write lock when they begin (jobs, writing requests)."""
    token = set_write_intent(True)
    try:
        yield
    finally:
        reset_write_intent(token)


@contextmanager
def reading() -> Iterator[None]:
    """Within this block, transactions begin without SQLite's write lock: reads, and work done before a short
    write (an award planned and signed before the transaction that stores it), in a writing request or job."""
    token = set_write_intent(False)
    try:
        yield
    finally:
        reset_write_intent(token)


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection: Any) -> None:
    if connection.dialect.name == "sqlite":
        # A deferred transaction that reads and then writes must upgrade its lock, and SQLite answers "database
        # is locked" at once (without waiting busy_timeout) when another writer committed in between. A
        # transaction that will write takes the write lock when it starts, so it waits its turn instead.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _WRITE_INTENT.get() else "BEGIN")


# SQLSTATEs worth trying again: serialization failure, deadlock, and the connection-level classes.
_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "08000", "08003", "08006", "57P01"})


def is_transient(error: BaseException) -> bool:
    """True for a database error that a new attempt of the same transaction can succeed past: SQLite busy or
    locked, a PostgreSQL serialization failure or deadlock, a connection lost."""
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    original = error.orig
    if getattr(original, "sqlstate", None) in _TRANSIENT_SQLSTATES:
        return True
    message = str(original).lower()
    return isinstance(error, OperationalError) and ("database is locked" in message or "busy" in message
                                                    or "database table is locked" in message)


RETRY_ATTEMPTS = 4
RETRY_BASE_DELAY = 0.05
# A generator of our own: the jitter must not draw from (and so move) the process-wide random state that the
# host application, or a property-based test running beside a background job, relies on.
_JITTER = random.Random()


def backoff_delay(attempt: int) -> float:
    """Seconds to wait before attempt ``attempt + 1``: exponential with full jitter, so that the writers that
    collided do not collide again."""
    return _JITTER.uniform(0, RETRY_BASE_DELAY * (2**attempt))


def run_with_retry(work: Callable[[], T], *, attempts: int = RETRY_ATTEMPTS,
                   should_retry: Callable[[], bool] | None = None,
                   before_retry: Callable[[], None] | None = None) -> T:
    """Run ``work`` and, when it fails with a transient database error (:func:`is_transient`), roll the session
    back and run it again after a short backoff, up to ``attempts`` times. ``work`` must be safe to repeat
    after a rollback (it commits at most once, at its end); ``should_retry`` can veto a new attempt."""
    for attempt in range(attempts):
        try:
            return work()
        except DBAPIError as error:
            if not is_transient(error) or attempt == attempts - 1:
                raise
            if should_retry is not None and not should_retry():
                raise
            log.warning("transient database error (attempt %d of %d), trying again: %s", attempt + 1, attempts,
                        type(error.orig).__name__)
            db.session.rollback()
            if before_retry is not None:
                before_retry()
            time.sleep(backoff_delay(attempt))
    raise AssertionError("unreachable")


def str_enum(enum_cls: type[Any], length: int = 32) -> Enum:
    """A portable enum column stored as its string values (no native PostgreSQL type to migrate)."""
    return Enum(enum_cls, native_enum=False, length=length, validate_strings=True,
                values_callable=lambda members: [member.value for member in members])


def binary_rows(statement: Any) -> list[tuple[Any, ...]]:
    """The rows of a SELECT of integer and binary columns, read in the session's transaction. On PostgreSQL
    through psycopg they travel in the binary format: SQLAlchemy's cursors ask for text, in which every
    ``bytea`` value comes hex-encoded, and decoding megabytes of learner bitmaps that way costs three times
    what reading them costs. Elsewhere, the ordinary execution. Flushes first, as the session's own execution
    does (the cursor below the session would not see pending changes otherwise)."""
    if db.session.autoflush:
        db.session.flush()
    connection = db.session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql" or dialect.driver != "psycopg":
        return [tuple(row) for row in connection.execute(statement)]
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    driver: Any = connection.connection.driver_connection
    with driver.cursor(binary=True) as cursor:
        cursor.execute(str(compiled), compiled.params)
        return list(cursor.fetchall())
