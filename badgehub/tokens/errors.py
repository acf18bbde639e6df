"""Errors of the API tokens domain, each with a stable code."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from badgehub.errors import BadgeHubError, Conflict, Forbidden, NotFound


class TokenRefused(BadgeHubError):
    """The bearer token is missing, unknown, revoked or expired: the API answers 401."""

    code = "invalid_token"
    http_status = 401
    default_message = _l("This API token is not valid.")


class TokenMissing(TokenRefused):
    code = "token_missing"
    default_message = _l("Send an API token in the header Authorization: Bearer <token>.")


class TokenRevoked(TokenRefused):
    code = "token_revoked"
    default_message = _l("This API token was revoked. Ask an owner of the organisation for a new one.")


class TokenExpired(TokenRefused):
    code = "token_expired"
    default_message = _l("This API token has expired. Ask an owner of the organisation for a new one.")


class MissingScope(Forbidden):
    code = "insufficient_scope"
    default_message = _l("This API token does not allow this action.")


class TokenNotFound(NotFound):
    code = "token_not_found"
    default_message = _l("There is no such API token in this organisation.")


class TokenAlreadyRevoked(Conflict):
    code = "token_already_revoked"
    default_message = _l("This API token is already revoked.")
