"""Flask extensions, created unbound here and initialised by the app factory."""

from __future__ import annotations

from flask import current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from badgehub.db import db

migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Storage comes from RATELIMIT_STORAGE_URI (memory:// by default, Redis when BADGEHUB_REDIS_URL is set).
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)

DEFAULT_PUBLIC_PAGES_LIMIT = "120 per minute"


def public_pages_limit() -> str:
    """The rate limit of the public pages that query a lot (catalogue search, observatory pages and exports)
    per client address: ``RATELIMIT_PUBLIC_PAGES``, generous for people, a ceiling for scrapers."""
    return str(current_app.config.get("RATELIMIT_PUBLIC_PAGES") or DEFAULT_PUBLIC_PAGES_LIMIT)


__all__ = ["babel", "csrf", "db", "limiter", "login_manager", "migrate", "public_pages_limit"]
