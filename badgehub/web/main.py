"""The home page and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from badgehub.config import SUPPORTED_LOCALES
from badgehub.extensions import db
from badgehub.territory.models import Territory
from badgehub.web.home import home_endpoint

bp = Blueprint("main", __name__)


@bp.get("/")
def home() -> ResponseReturnValue:
    # Signed in, people come to do their one thing: the landing page is for those who do not know us yet.
    if current_user.is_authenticated:
        endpoint, values = home_endpoint(current_user)
        return redirect(url_for(endpoint, **values))
    territories = db.session.scalars(select(Territory).order_by(Territory.name)).all()
    return render_template("main/home.html", territories=territories)


def safe_next(target: str | None, fallback: str = "/") -> str:
    """Only follow same-site relative paths without control characters, so a crafted link cannot bounce
    people to another site or break the redirect."""
    if not target:
        return fallback
    # A CR or LF would end up in the Location header (a 500, or a split header); no real path has controls.
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    return target


@bp.post("/language")
def set_language() -> ResponseReturnValue:
    locale = request.form.get("locale", "")
    if locale not in SUPPORTED_LOCALES:
        abort(400)
    session["locale"] = locale
    if current_user.is_authenticated:
        current_user.locale = locale
        db.session.commit()
    return redirect(safe_next(request.form.get("next")))

