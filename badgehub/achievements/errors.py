"""Errors of the achievements domain, each with a stable code."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from badgehub.errors import Conflict, ValidationError


class ImageRejected(ValidationError):
    """An uploaded image, or the settings of a generated one, cannot be used.

    ``reason`` is a stable machine code (``too_large``, ``not_png_or_svg``, ``too_many_pixels``,
    ``unreadable``, ``svg_forbidden_content``…); the message says what to do, in the reader's language.
    The field it belongs to is ``details["field"]`` (``image`` unless told otherwise).
    """

    code = "image_rejected"
    default_message = _l("This image cannot be used.")

    def __init__(self, reason: str, message: Any, *, field: str = "image") -> None:
        self.reason = reason
        super().__init__(message, details={"field": field, "reason": reason})


class AchievementArchived(Conflict):
    """The achievement is archived: it stays readable at its URL but cannot be awarded or edited."""

    code = "achievement_archived"
    default_message = _l("This badge is archived: it can no longer be awarded or edited. Restore it first.")
