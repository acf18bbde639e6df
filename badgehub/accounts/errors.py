"""Errors of the accounts domain."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from badgehub.errors import BadgeHubError, Conflict, ValidationError


class EmailTaken(Conflict):
    code = "email_taken"
    default_message = _l("An account already exists for this e-mail address.")


class InvalidEmail(ValidationError):
    code = "invalid_email"
    default_message = _l("This does not look like an e-mail address.")


class InvalidLink(BadgeHubError):
    code = "invalid_link"
    http_status = 400
    default_message = _l("This link is invalid, has expired or has already been used. Ask for a new one.")


class BadCredentials(BadgeHubError):
    code = "bad_credentials"
    http_status = 400
    default_message = _l("The e-mail address or the password is not right.")
