"""Errors of the OpenID4VCI endpoints, with the error codes of OAuth 2.0 (RFC 6749 §5.2) and OpenID4VCI.

``code`` is what the wallet reads in ``{"error": code, "error_description": …}``; the learner-facing ones
(offers made from the wallet card) carry a translated message like every BadgeHub error.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from badgehub.errors import BadgeHubError, Conflict


class Oid4vciError(BadgeHubError):
    """A refusal of the token or credential endpoint; ``description`` is for the wallet's developer."""

    code = "invalid_request"
    http_status = 400

    def __init__(self, description: str) -> None:
        self.description = description
        super().__init__(description)


class InvalidRequest(Oid4vciError):
    code = "invalid_request"


class UnsupportedGrantType(Oid4vciError):
    code = "unsupported_grant_type"


class InvalidGrant(Oid4vciError):
    """An unknown, expired or already used pre-authorized code, or a wrong transaction code."""

    code = "invalid_grant"


class InvalidToken(Oid4vciError):
    code = "invalid_token"
    http_status = 401


class InvalidCredentialRequest(Oid4vciError):
    code = "invalid_credential_request"


class UnknownCredentialConfiguration(Oid4vciError):
    code = "unknown_credential_configuration"


class InvalidProof(Oid4vciError):
    code = "invalid_proof"


class InvalidNonce(Oid4vciError):
    """The proof's nonce was never handed out, has expired, or was already used: get a fresh one."""

    code = "invalid_nonce"


class CredentialRequestDenied(Oid4vciError):
    """The credential was revoked after the offer was made."""

    code = "credential_request_denied"


class NotOfferable(Conflict):
    """A revoked or expired badge cannot be put in a wallet."""

    code = "not_offerable"
    default_message = _l("This badge is revoked or expired: it cannot be added to a wallet.")
