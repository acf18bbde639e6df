"""The web side of signed-in devices (:mod:`badgehub.accounts.sessions`): Flask-Login's loaders and the
remember-me cookie.

Flask-Login's own remember-me cookie is not used: it is a signed copy of the user id that nothing can revoke.
Ours carries the secret of a session row, is replaced on every use, and dies with the row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import Flask, Request, current_app, g, session
from werkzeug.wrappers import Response

from badgehub.accounts import service as accounts
from badgehub.accounts import sessions
from badgehub.accounts.models import User, UserSession
from badgehub.extensions import db, login_manager

REMEMBER_COOKIE = "badgehub_remember"
SESSION_KEY = "_sid"
_NO_COOKIE = ""


def init_app(app: Flask) -> None:
    login_manager.user_loader(_load_user)
    login_manager.request_loader(_load_user_from_remember_cookie)
    app.after_request(_write_remember_cookie)


def current_device() -> UserSession | None:
    """The session row of this request's device, when signed in."""
    device: UserSession | None = g.get("_device_session")
    return device


def _load_user(session_id: str) -> User | None:
    user = accounts.load_user_for_session(session_id)
    if user is None:
        return None
    record = sessions.find_session(user.id, session.get(SESSION_KEY))
    if record is None:
        return None
    g._device_session = record
    return user


def _load_user_from_remember_cookie(request: Request) -> User | None:
    cookie = request.cookies.get(REMEMBER_COOKIE)
    if not cookie or session.get("_remember") == "clear":
        return None
    opened = sessions.use_remember_cookie(cookie)
    db.session.commit()  # the rotation, or the end of a session whose replaced cookie came back
    if opened is None:
        g._remember_cookie = _NO_COOKIE
        return None
    user = db.session.get(User, opened.record.user_id)
    if user is None:
        return None
    session["_user_id"] = user.get_id()
    session[SESSION_KEY] = opened.key
    session["_fresh"] = False  # a remembered device may read, not change how the account is protected
    session["_id"] = login_manager._session_identifier_generator()
    g._device_session = opened.record
    if opened.remember is not None:
        g._remember_cookie = opened.remember
    return user


def start(user: User, *, remember: bool, user_agent: str) -> None:
    """Record this device as signed in as ``user`` (the caller commits, then calls ``login_user``)."""
    opened = sessions.open_session(user, remember=remember, user_agent=user_agent)
    session[SESSION_KEY] = opened.key
    g._device_session = opened.record
    g._remember_cookie = opened.remember if opened.remember is not None else _NO_COOKIE


def end() -> None:
    """Sign this device out: its row goes, and with it both cookies (the caller commits)."""
    record = current_device()
    if record is not None:
        sessions.end_session(record)
    session.pop(SESSION_KEY, None)
    g._remember_cookie = _NO_COOKIE


def _write_remember_cookie(response: Response) -> Response:
    value: Any = g.get("_remember_cookie")
    if value is None:
        return response
    config = current_app.config
    if value == _NO_COOKIE:
        response.delete_cookie(REMEMBER_COOKIE, path="/", secure=bool(config.get("REMEMBER_COOKIE_SECURE")),
                               httponly=True, samesite="Lax")
    else:
        response.set_cookie(REMEMBER_COOKIE, value, max_age=int(sessions.REMEMBERED_LIFETIME.total_seconds()),
                            path="/", secure=bool(config.get("REMEMBER_COOKIE_SECURE")), httponly=True,
                            samesite="Lax")
    return response


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
             ("Chromium/", "Chromium"), ("Safari/", "Safari"))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def device_label(user_agent: str) -> str:
    """A short, translated name for a device from its User-Agent (\"Firefox on Linux\"), for the account page."""
    from flask_babel import gettext

    browser = next((name for marker, name in _BROWSERS if marker in user_agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), None)
    if browser and system:
        return str(gettext("%(browser)s on %(system)s", browser=browser, system=system))
    return browser or system or str(gettext("Unknown browser"))


@dataclass(frozen=True)
class DeviceRow:
    """One line of the account page's list of devices."""

    id: int
    label: str
    signed_in_at: dt.datetime
    remembered: bool
    current: bool


def device_rows(records: list[UserSession]) -> list[DeviceRow]:
    """The account page's view of ``records``, this device first."""
    here = current_device()
    rows = [DeviceRow(id=record.id, label=device_label(record.user_agent), signed_in_at=record.created_at,
                      remembered=record.remember_hash is not None, current=here is not None and record.id == here.id)
            for record in records]
    return sorted(rows, key=lambda row: not row.current)
