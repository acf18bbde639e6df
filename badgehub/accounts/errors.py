"""Errors of the accounts domain.

Each carries a stable ``code`` (for the API and the tests) and a translated message for people. The
messages never say whether an account exists for an address, except :class:`EmailTaken`, which
registration cannot avoid.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from badgehub.errors import BadgeHubError, Conflict, NotFound, ValidationError


class EmailTaken(Conflict):
    code = "email_taken"
    default_message = _l("An account already exists for this e-mail address.")


class InvalidEmail(ValidationError):
    code = "invalid_email"
    default_message = _l("This does not look like an e-mail address.")


class InvalidName(ValidationError):
    code = "invalid_name"
    default_message = _l("Please give a name of 1 to 200 characters, without control characters.")


class InvalidPassword(ValidationError):
    """The password breaks the policy; the subclasses say which way (the message gives the bound)."""

    code = "invalid_password"
    default_message = _l("This password cannot be used.")


class PasswordTooShort(InvalidPassword):
    code = "password_too_short"


class PasswordTooLong(InvalidPassword):
    code = "password_too_long"


class InvalidLocale(ValidationError):
    code = "invalid_locale"
    default_message = _l("This language is not available.")


class InvalidLink(BadgeHubError):
    """A one-time link that cannot be used. The subclasses say why, so the page can say it plainly."""

    code = "invalid_link"
    http_status = 400
    default_message = _l("This link is invalid, has expired or has already been used. Ask for a new one.")


class LinkExpired(InvalidLink):
    code = "link_expired"
    default_message = _l("This link has expired. Links sent by e-mail only work for a short time: "
                         "ask for a new one.")


class LinkUsed(InvalidLink):
    code = "link_used"
    default_message = _l("This link has already been used. Each link works only once: ask for a new one.")


class BadCredentials(BadgeHubError):
    code = "bad_credentials"
    http_status = 400
    default_message = _l("The e-mail address or the password is not right.")


class WrongPassword(BadgeHubError):
    code = "wrong_password"
    http_status = 400
    default_message = _l("Your current password is not right.")


class EmailNotVerified(BadgeHubError):
    """The password was right but the address was never confirmed: nobody may use the account yet."""

    code = "email_not_verified"
    http_status = 403
    default_message = _l("Please confirm your e-mail address first, with the link we sent you when you "
                         "created the account.")


class WalletItemNotFound(NotFound):
    """A credential, address, share or import that does not exist or is someone else's (always 404)."""

    code = "wallet_item_not_found"
    default_message = _l("This is not in your wallet.")


class AddressIsYours(Conflict):
    code = "address_is_yours"
    default_message = _l("This is already the address of your account.")


class AddressAlreadyAdded(Conflict):
    code = "address_already_added"
    default_message = _l("You have already added this address.")


class TooManyAddresses(Conflict):
    code = "too_many_addresses"
    default_message = _l("You cannot add more addresses. Remove one you no longer use first.")


class AddressTaken(Conflict):
    """Told only to whoever holds the confirmation link, i.e. whoever reads that mailbox."""

    code = "address_taken"
    default_message = _l("This address already belongs to another account, so it cannot be added to yours. "
                         "Sign in to that account instead.")


class InvalidAddressLink(BadgeHubError):
    code = "invalid_address_link"
    http_status = 404
    default_message = _l("This confirmation link is not valid: it was already used, it has expired, or it was "
                         "sent to another account. Add the address again to get a new link.")


class InvalidHolderDid(ValidationError):
    code = "invalid_holder_did"
    default_message = _l("This is not a did:key of an Ed25519 key (it starts with did:key:z6Mk).")
