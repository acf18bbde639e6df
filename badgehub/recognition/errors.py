"""Errors of recognition requests, with stable codes."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from badgehub.errors import BadgeHubError, Conflict, NotFound, ValidationError


class RequestNotFound(NotFound):
    code = "request_not_found"
    default_message = _l("There is no such request, or it is not yours to see.")


class EvidenceNotFound(NotFound):
    code = "evidence_not_found"
    default_message = _l("There is no such file or link, or it is not yours to see.")


class NotRequestable(Conflict):
    code = "not_requestable"
    default_message = _l("This badge cannot be asked for: it is archived, or its organisation is suspended.")


class AlreadyRequested(Conflict):
    code = "already_requested"
    default_message = _l("You already asked for this badge and your request is still open: follow it from “My "
                         "requests” in your wallet.")


class WrongStatus(Conflict):
    """The request is not in a state that allows this action (e.g. deciding on a request already declined)."""

    code = "request_wrong_status"
    default_message = _l("This request has moved on since you opened it: reload the page.")


class TooManyRequests(BadgeHubError):
    code = "too_many_requests"
    http_status = 429
    default_message = _l("You have many open requests. Wait for answers before asking again.")


class EvidenceRejected(ValidationError):
    """A file given as evidence cannot be kept. ``reason`` is a stable code (``empty``, ``too_large``,
    ``unsupported_type``, ``too_many_files``, ``too_many_pixels``, ``unreadable``, ``pdf_active_content``,
    ``polyglot``, or an SVG reason of :func:`badgehub.achievements.uploads.sanitise_svg`); the message
    names the file and says what to do."""

    code = "evidence_rejected"
    default_message = _l("This file cannot be attached.")

    def __init__(self, reason: str, message: Any, *, field: str = "files") -> None:
        self.reason = reason
        super().__init__(message, details={"fields": {field: message}, "reason": reason})
