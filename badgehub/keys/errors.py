"""Errors of the signing-keys domain, each with a stable ``code``."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from badgehub.errors import BadgeHubError, Conflict, NotFound, ValidationError


class KekMissing(BadgeHubError):
    """No key-encryption key is configured, so no private key can be stored or used."""

    code = "kek_missing"
    http_status = 500
    default_message = _l("No key-encryption key is configured: run `badgehub init` (or set BADGEHUB_KEK).")


class InvalidKek(BadgeHubError):
    """The configured key-encryption key is not 64 hexadecimal characters (32 bytes)."""

    code = "kek_invalid"
    http_status = 500
    default_message = _l("The key-encryption key must be exactly 64 hexadecimal characters (32 bytes).")


class KeyDecryptionFailed(BadgeHubError):
    """A private key could not be decrypted: wrong KEK, altered ciphertext, or a blob from another key row."""

    code = "signing_key_decryption_failed"
    http_status = 500
    default_message = _l("A private signing key could not be decrypted with the configured key-encryption key.")


class UnknownKeyFormat(KeyDecryptionFailed):
    """The encrypted blob starts with a format byte this version of BadgeHub does not know."""

    code = "signing_key_format_unknown"
    default_message = _l("A private signing key is stored in a format this version does not know.")


class SigningKeyNotFound(NotFound):
    code = "signing_key_not_found"
    default_message = _l("There is no signing key with this id.")


class NoActiveKey(Conflict):
    """The organisation has no active key for the algorithm (never created, or declared compromised)."""

    code = "no_active_signing_key"
    default_message = _l("This organisation has no active signing key of this kind: rotate its keys first.")


class KeyNotActive(Conflict):
    """A retired or compromised key was asked to sign."""

    code = "signing_key_not_active"
    default_message = _l("Only an active signing key may sign.")


class KeysAlreadyExist(Conflict):
    code = "signing_keys_exist"
    default_message = _l("This organisation already has active signing keys; rotate them instead.")


class KeyAlreadyCompromised(Conflict):
    code = "signing_key_already_compromised"
    default_message = _l("This key is already declared compromised from an earlier or equal date.")


class InvalidCompromiseDate(ValidationError):
    code = "invalid_compromise_date"
    default_message = _l("The compromise date must be a time-zone-aware moment that is not in the future.")
