"""What every template can use, registered once by the app factory: the current language, the language switcher,
the signed-in user's areas, and the filters that turn domain values into words (``label``, ``status_tone``,
``theme_name``, ``markdown``…)."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from badgehub.achievements.markdown import render_markdown
from badgehub.catalogue.themes import theme_description, theme_name
from badgehub.config import SUPPORTED_LOCALES
from badgehub.territory import service as territory
from badgehub.web import labels
from badgehub.web.achievement_forms import language_name, type_label

LANGUAGE_NAMES = {"en": "English", "fr": "Français"}

FILTERS: dict[str, Any] = {
    "label": labels.label,
    "status_tone": labels.tone,
    "theme_name": theme_name,
    "theme_description": theme_description,
    "markdown": render_markdown,
    "achievement_type_label": type_label,
    "language_name": language_name,
}


def init_app(app: Flask) -> None:
    """Give every template the context below and the :data:`FILTERS`."""

    @app.context_processor
    def inject() -> dict[str, Any]:
        locale = str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"])
        return {
            "current_locale": locale,
            "languages": [(code, LANGUAGE_NAMES[code]) for code in SUPPORTED_LOCALES],
            "current_path": request.full_path.rstrip("?") if request else "/",
            "site_name": _l("BadgeHub"),
        }

    @app.context_processor
    def navigation() -> dict[str, Any]:
        # Whether the menu shows "Coordination": for coordinators and platform admins only.
        return {"nav_coordination": territory.coordinates_anything(current_user)}

    for name, function in FILTERS.items():
        app.add_template_filter(function, name)
