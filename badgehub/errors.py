"""Typed domain errors with stable codes, and the app-wide error handlers.

Services raise :class:`BadgeHubError` subclasses; the web and API layers turn them into a translated page
or ``{"error": {"code", "message", "details"}}``. Nothing here ever shows a stack trace to a user.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class BadgeHubError(Exception):
    """Base of every expected failure: a stable machine ``code``, an HTTP status and a user message."""

    code = "error"
    http_status = 400
    default_message: Any = _l("Something is wrong with this request.")

    def __init__(self, message: Any | None = None, *, details: dict[str, Any] | None = None) -> None:
        self.message = message if message is not None else self.default_message
        self.details = details or {}
        super().__init__(str(self.message))


class ValidationError(BadgeHubError):
    code = "invalid"
    http_status = 400
    default_message = _l("Some of the values given are not valid.")


class NotFound(BadgeHubError):
    code = "not_found"
    http_status = 404
    default_message = _l("We could not find what you asked for.")


class Forbidden(BadgeHubError):
    code = "forbidden"
    http_status = 403
    default_message = _l("You are not allowed to do this.")


class Conflict(BadgeHubError):
    code = "conflict"
    http_status = 409
    default_message = _l("This conflicts with something that already exists.")


STATUS_MESSAGES: dict[int, Any] = {
    400: _l("The request could not be understood."),
    401: _l("Please sign in to continue."),
    403: _l("You are not allowed to see this page."),
    404: _l("This page does not exist, or is not yours to see."),
    405: _l("This action is not allowed here."),
    409: _l("This conflicts with something that already exists."),
    413: _l("What you sent is too large."),
    429: _l("Too many attempts. Please wait a little and try again."),
    500: _l("Something went wrong on our side. Nothing you entered was lost; please try again."),
}

STATUS_CODES: dict[int, str] = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "too_large", 429: "rate_limited", 500: "internal_error",
}


def wants_json() -> bool:
    """True when the client is the API or clearly prefers JSON to HTML."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(status: int, code: str, message: Any, details: dict[str, Any] | None = None) -> Response:
    """Render an error as JSON for API clients and as a translated page for people."""
    # str() first: Flask-Babel's lazy strings declare themselves safe HTML (__html__), so a message that
    # quotes user input (an organisation's name…) would otherwise reach the page unescaped.
    message = str(message)
    if wants_json():
        response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    else:
        try:
            html = render_template("errors/error.html", status=status, code=code, message=message,
                                   details=details or {})
        except Exception:
            # The page itself failed (the database is gone, say, and the layout asks who is signed in): a plain
            # page of ours still beats the server's bare 500.
            log.exception("the error page could not be rendered")
            html = _PLAIN_ERROR_PAGE.format(status=status, message=escape(message))
        response = Response(html, mimetype="text/html")
    response.status_code = status
    return response


_PLAIN_ERROR_PAGE = ('<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
                     '<meta name="viewport" content="width=device-width, initial-scale=1">'
                     "<title>BadgeHub: {status}</title></head>"
                     '<body><main><h1>{status}</h1><p>{message}</p><p><a href="/">BadgeHub</a></p></main>'
                     "</body></html>")


def _roll_back() -> None:
    """Drop what the failed request left in the session, so that rendering the error page can query again
    (a session left in a failed transaction raises PendingRollbackError on its next use)."""
    from badgehub.extensions import db

    try:
        db.session.rollback()
    except Exception:
        log.exception("rollback after an error failed")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(BadgeHubError)
    def handle_domain_error(error: BadgeHubError) -> Response:
        _roll_back()
        return error_response(error.http_status, error.code, error.message, error.details)

    @app.errorhandler(CSRFError)
    def handle_csrf(error: CSRFError) -> Response:
        return error_response(400, "csrf_failed", _l("This form has expired or was not sent from our site. "
                                                    "Please reload the page and try again."))

    @app.errorhandler(HTTPException)
    def handle_http(error: HTTPException) -> Response:
        _roll_back()
        status = error.code or 500
        response = error_response(status, STATUS_CODES.get(status, "http_error"),
                                  STATUS_MESSAGES.get(status, error.description))
        if status == 429 and error.response is not None and "Retry-After" in error.response.headers:
            response.headers["Retry-After"] = error.response.headers["Retry-After"]
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        _roll_back()
        return error_response(500, "internal_error", STATUS_MESSAGES[500])
