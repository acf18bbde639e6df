"""Errors of the wallet. Each has a stable ``code`` and a message the learner can act on."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from badgehub.accounts.errors import WalletItemNotFound as WalletItemNotFound  # one 404 for every wallet item
from badgehub.errors import BadgeHubError, Conflict, NotFound, ValidationError


class InvalidShare(ValidationError):
    code = "invalid_share"
    default_message = _l("This share link cannot be made as asked.")


class ShareNotFound(NotFound):
    code = "share_not_found"
    default_message = _l("There is no shared wallet at this address.")


class ShareGone(BadgeHubError):
    code = "share_gone"
    http_status = 410
    default_message = _l("Its owner has stopped sharing these badges, or the link has expired.")


class AlreadyImported(Conflict):
    code = "already_imported"
    default_message = _l("This badge is already in your wallet.")


class TooManyImports(Conflict):
    code = "too_many_imports"
    default_message = _l("Your wallet holds as many imported badges as it can. Remove one first.")


class LastOwner(Conflict):
    code = "last_owner"
    default_message = _l("You are the only owner of an organisation. Make someone else an owner first.")

    def __init__(self, names: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(_l("You are the only owner of %(organisations)s. Make someone else an owner first, or "
                            "close the organisation: it cannot be left without an owner.", organisations=names),
                         details=details)


class ErasureNotConfirmed(ValidationError):
    code = "erasure_not_confirmed"
    default_message = _l("Type the e-mail address of your account exactly to confirm.")


class InvalidKeepLink(BadgeHubError):
    """A "See and keep your badge" link that cannot be used; the subclasses say why."""

    code = "invalid_keep_link"
    http_status = 404
    default_message = _l("This link does not lead to a badge. Check that it was copied whole, or sign in to "
                         "see your badges.")


class KeepLinkExpired(InvalidKeepLink):
    code = "keep_link_expired"
    http_status = 410
    default_message = _l("This link has expired. Your badge is still yours: sign in with the address it was "
                         "sent to and you will find it in your wallet.")


class KeepLinkUsed(InvalidKeepLink):
    code = "keep_link_used"
    http_status = 410
    default_message = _l("This link has already been used, and each works once. Your badge is in your wallet: "
                         "sign in with the address it was sent to.")
