"""Readiness of this process's dependencies, for load balancers and operators (``/readyz``).

The database is required: without it nothing works, so it alone makes a node unready. Redis is optional by
design (rate limits fall back to each process's memory, jobs run in the web process), so Redis down is
reported as ``degraded`` and the node stays in the pool.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, scoped_session

# A check that takes longer than this is as good as failed for a load balancer polling every few seconds.
CHECK_TIMEOUT_SECONDS = 2.0


@dataclass
class Check:
    """The state of one dependency: ``ok``, ``degraded``, ``unavailable`` or ``not_configured``."""

    status: str
    milliseconds: int | None = None
    detail: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status, **self.extra}
        if self.milliseconds is not None:
            body["ms"] = self.milliseconds
        if self.detail:
            body["detail"] = self.detail
        return body


def _elapsed(start: float) -> int:
    return round((time.monotonic() - start) * 1000)


def check_database(session: Session | scoped_session[Any]) -> Check:
    """Read and write in one transaction rolled back (a read-only replica, a full or locked SQLite file, a
    database refusing writes all fail here), within :data:`CHECK_TIMEOUT_SECONDS` on PostgreSQL."""
    start = time.monotonic()
    try:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text(f"SET LOCAL statement_timeout = {int(CHECK_TIMEOUT_SECONDS * 1000)}"))
        version = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        session.execute(text("UPDATE alembic_version SET version_num = version_num"))
    except SQLAlchemyError as exc:
        return Check("unavailable", _elapsed(start), type(getattr(exc, "orig", None) or exc).__name__)
    finally:
        session.rollback()
    if version is None:
        return Check("unavailable", _elapsed(start), "not migrated: run `badgehub init`")
    return Check("ok", _elapsed(start), extra={"schema": version})


def check_redis(url: str | None) -> Check:
    """PING Redis at ``url`` within :data:`CHECK_TIMEOUT_SECONDS`; ``degraded`` when it does not answer."""
    if not url:
        return Check("not_configured", extra={"fallback": "in-memory rate limits, jobs in the web process"})
    from redis import Redis
    from redis.exceptions import RedisError

    start = time.monotonic()
    connection = Redis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT_SECONDS,
                                socket_timeout=CHECK_TIMEOUT_SECONDS)
    try:
        connection.ping()
    except (RedisError, OSError) as exc:
        return Check("degraded", _elapsed(start), type(exc).__name__,
                     extra={"fallback": "in-memory rate limits, jobs in the web process"})
    finally:
        connection.close()
    return Check("ok", _elapsed(start))


def readiness(session: Session | scoped_session[Any], redis_url: str | None) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body of ``/readyz``: 503 only when the database fails."""
    checks = {"database": check_database(session), "redis": check_redis(redis_url)}
    if checks["database"].status != "ok":
        status, overall = 503, "unavailable"
    elif any(check.status == "degraded" for check in checks.values()):
        status, overall = 200, "degraded"
    else:
        status, overall = 200, "ok"
    return status, {"status": overall, "checks": {name: check.as_json() for name, check in checks.items()}}
