"""Errors of the issuing domain, each with a stable code."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from badgehub.errors import BadgeHubError, Conflict, NotFound


class CredentialNotFound(NotFound):
    code = "credential_not_found"
    default_message = _l("There is no credential at this address.")


class WrongOrganisation(NotFound):
    """The achievement or credential belongs to another organisation: to this one it does not exist."""

    code = "not_found"
    default_message = _l("This badge does not belong to this organisation.")


class AlreadyRevoked(Conflict):
    code = "credential_already_revoked"
    default_message = _l("This credential is already revoked.")


class IdempotencyConflict(Conflict):
    """The idempotency key was already used for another award (another achievement or recipient)."""

    code = "idempotency_conflict"
    default_message = _l("This idempotency key was already used for a different award.")


class ImageFormatUnavailable(NotFound):
    """The baked image was asked for in a format the achievement's image cannot be turned into."""

    code = "image_format_unavailable"
    default_message = _l("This badge's image is an SVG drawing: it is available as a baked SVG file only.")


class IssuingFailed(BadgeHubError):
    """Something that should not happen prevented signing (a document the engine refused, no free index).

    Nothing was issued: the whole award was rolled back.
    """

    code = "issuing_failed"
    http_status = 500
    default_message = _l("The credential could not be issued. Nothing was saved; please try again.")
