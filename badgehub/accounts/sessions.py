"""Signed-in devices, kept in the database so that signing out really ends them.

A session cookie alone is a signed note that stays valid wherever it was copied; here it only carries the
secret of a :class:`~badgehub.accounts.models.UserSession` row, and a request is signed in only while that row
exists. The rules:

- **Sign-out** deletes the row: the session cookie and the remember-me cookie of that device stop working at
  once, copies included. "Sign out this device" on the account page does the same from another device.
- **Remember me** is a second secret on the same row, sent in its own long-lived cookie as
  ``<row id>.<secret>``. Each use replaces it (rotation): a stolen copy works at most until the owner's
  browser next uses it, and a copy used after that ends the session (the replaced secret is accepted only
  :data:`ROTATION_GRACE` after the change, for tabs restored together).
- **Lifetimes**: a remembered device :data:`REMEMBERED_LIFETIME` from its last use of the cookie; a session
  without remember-me :data:`SESSION_LIFETIME` from sign-in. Expired rows are purged when the same person
  signs in again.

Services flush and never commit, like the rest of the accounts package.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select

from badgehub.accounts.models import User, UserSession
from badgehub.db import utcnow
from badgehub.extensions import db

SESSION_LIFETIME = dt.timedelta(days=7)
REMEMBERED_LIFETIME = dt.timedelta(days=365)
ROTATION_GRACE = dt.timedelta(minutes=2)
USER_AGENT_MAX = 200
_SECRET_MAX_CHARS = 100


@dataclass(frozen=True)
class OpenedSession:
    """A device just signed in (or renewed): ``key`` goes into the session cookie, ``remember`` (when not
    None) into the remember-me cookie, and nowhere else."""

    record: UserSession
    key: str
    remember: str | None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _remember_cookie(record: UserSession, secret: str) -> str:
    return f"{record.id}.{secret}"


def open_session(user: User, *, remember: bool, user_agent: str = "", now: dt.datetime | None = None) -> OpenedSession:
    """Record a new signed-in device for ``user`` and return the secrets of its cookies."""
    now = now or utcnow()
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id, UserSession.expires_at <= now))
    key = secrets.token_urlsafe(32)
    remember_secret = secrets.token_urlsafe(32) if remember else None
    record = UserSession(user_id=user.id, key_hash=_digest(key), created_at=now, last_seen_at=now,
                         remember_hash=_digest(remember_secret) if remember_secret else None,
                         user_agent=" ".join(user_agent.split())[:USER_AGENT_MAX],
                         expires_at=now + (REMEMBERED_LIFETIME if remember else SESSION_LIFETIME))
    db.session.add(record)
    db.session.flush()
    return OpenedSession(record, key, _remember_cookie(record, remember_secret) if remember_secret else None)


def find_session(user_id: int, key: str | None, *, now: dt.datetime | None = None) -> UserSession | None:
    """The live session of ``user_id`` whose cookie secret is ``key``, or None (unknown, ended or expired)."""
    if not key or len(key) > _SECRET_MAX_CHARS:
        return None
    digest = _digest(key)
    record = db.session.scalar(select(UserSession).where(UserSession.key_hash == digest))
    if record is None or record.user_id != user_id or not hmac.compare_digest(record.key_hash, digest):
        return None
    if record.expires_at <= (now or utcnow()):
        return None
    return record


def use_remember_cookie(cookie: str, *, now: dt.datetime | None = None) -> OpenedSession | None:
    """Renew the device whose remember-me cookie is ``cookie``: a new session secret and a new remember-me
    secret (the old one stops working after :data:`ROTATION_GRACE`). Returns None for an unknown, expired or
    replaced cookie; a replaced one seen after the grace period ends the session (someone kept a copy)."""
    now = now or utcnow()
    record_id, _, secret = cookie.partition(".")
    if not record_id.isdigit() or not secret or len(secret) > _SECRET_MAX_CHARS or len(record_id) > 18:
        return None
    record = db.session.get(UserSession, int(record_id))
    if record is None or record.remember_hash is None or record.expires_at <= now:
        return None
    digest = _digest(secret)
    if not hmac.compare_digest(record.remember_hash, digest):
        in_grace = (record.previous_remember_hash is not None and record.remember_rotated_at is not None
                    and hmac.compare_digest(record.previous_remember_hash, digest)
                    and now - record.remember_rotated_at <= ROTATION_GRACE)
        if not in_grace:
            if record.previous_remember_hash is not None and hmac.compare_digest(record.previous_remember_hash,
                                                                                  digest):
                db.session.delete(record)
                db.session.flush()
            return None
        # A tab restored with the cookie just replaced: this browser session only, no new remember-me secret.
        key = secrets.token_urlsafe(32)
        record.key_hash = _digest(key)
        db.session.flush()
        return OpenedSession(record, key, None)
    key, new_secret = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    record.key_hash = _digest(key)
    record.previous_remember_hash = record.remember_hash
    record.remember_hash = _digest(new_secret)
    record.remember_rotated_at = record.last_seen_at = now
    record.expires_at = now + REMEMBERED_LIFETIME
    db.session.flush()
    return OpenedSession(record, key, _remember_cookie(record, new_secret))


def user_sessions(user: User, *, now: dt.datetime | None = None) -> list[UserSession]:
    """The live sessions of ``user``, most recently used first."""
    return list(db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.expires_at > (now or utcnow()))
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())))


def end_session(record: UserSession) -> None:
    """Sign out one device: its session cookie and its remember-me cookie stop working."""
    db.session.delete(record)
    db.session.flush()


def end_session_of(user: User, session_id: int) -> bool:
    """Sign out the device ``session_id`` of ``user`` (from the account page); False when there is none."""
    record = db.session.get(UserSession, session_id)
    if record is None or record.user_id != user.id:
        return False
    end_session(record)
    return True


def end_other_sessions(user: User, *, keep: UserSession | None = None) -> None:
    """Sign out every device of ``user`` but ``keep`` (sign out everywhere, a new password)."""
    query = delete(UserSession).where(UserSession.user_id == user.id)
    if keep is not None:
        query = query.where(UserSession.id != keep.id)
    db.session.execute(query)
    db.session.flush()
