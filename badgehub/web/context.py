"""What every template can use: the current language, the language switcher, the signed-in user's areas."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from badgehub.config import SUPPORTED_LOCALES

LANGUAGE_NAMES = {"en": "English", "fr": "Français"}


def register_template_context(app: Flask) -> None:
    @app.context_processor
    def inject() -> dict[str, Any]:
        locale = str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"])
        return {
            "current_locale": locale,
            "languages": [(code, LANGUAGE_NAMES[code]) for code in SUPPORTED_LOCALES],
            "current_path": request.full_path.rstrip("?") if request else "/",
            "site_name": _l("BadgeHub"),
        }
