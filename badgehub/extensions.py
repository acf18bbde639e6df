"""Flask extensions, created unbound here and initialised by the app factory."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect
from limits import RateLimitItem
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from redis.exceptions import RedisError

from badgehub.db import db

migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Storage comes from RATELIMIT_STORAGE_URI (memory:// by default, Redis when BADGEHUB_REDIS_URL is set).
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)

log = logging.getLogger(__name__)
# Counts of hand-made limits (the API's per token) while Redis is unreachable: per process, like the
# limiter's own in-memory fallback, so an outage of Redis never turns into 500s.
_memory_limits = FixedWindowRateLimiter(MemoryStorage())

DEFAULT_PUBLIC_PAGES_LIMIT = "120 per minute"
DEFAULT_VERIFY_LIMIT = "20 per minute"

View = TypeVar("View", bound=Callable[..., Any])


def public_pages_limit() -> str:
    """The rate limit of the public pages that query a lot (catalogue search, observatory pages and exports)
    per client address: ``RATELIMIT_PUBLIC_PAGES``, generous for people, a ceiling for scrapers."""
    return str(current_app.config.get("RATELIMIT_PUBLIC_PAGES") or DEFAULT_PUBLIC_PAGES_LIMIT)


def verify_limit() -> str:
    """The rate limit of verification requests per client address (``RATELIMIT_VERIFY``)."""
    return str(current_app.config.get("RATELIMIT_VERIFY", DEFAULT_VERIFY_LIMIT))


def verification_rate_limited(view: View) -> View:
    """Limit the POSTs of ``view`` to RATELIMIT_VERIFY per client address, one budget for /verify, the wallet's
    import and the API: each verification may fetch from the web, so it is the resource being protected."""
    limit = limiter.shared_limit(verify_limit, scope="verify", methods=["POST"])
    return cast(View, limit(view))


def hit_limit(item: RateLimitItem, *identifiers: str) -> int | None:
    """Count one hit of ``item`` for ``identifiers`` in the limiter's storage; return ``None`` when within
    the limit, else the seconds until it resets. Counts in this process's memory when Redis is unreachable."""
    try:
        strategy = limiter.limiter
        if strategy.hit(item, *identifiers):
            return None
        reset = strategy.get_window_stats(item, *identifiers).reset_time
    except (RedisError, OSError):
        log.warning("rate limit storage unreachable: counting %s in this process's memory", identifiers[0])
        if _memory_limits.hit(item, *identifiers):
            return None
        reset = _memory_limits.get_window_stats(item, *identifiers).reset_time
    return max(1, math.ceil(reset - time.time()))


__all__ = ["babel", "csrf", "db", "hit_limit", "limiter", "login_manager", "migrate", "public_pages_limit",
           "verification_rate_limited"]
