"""Keeping a badge from its award e-mail in one tap.

The link proves that whoever opens it reads the recipient's mailbox, as a sign-in link does. Using it signs in
the account of that address (its own address, or an extra address it verified in its wallet), or creates the
account with the address already verified when there is none, and the badge is then in the wallet. The same
safety rule as sign-in links holds: an account whose address was never confirmed becomes confirmed, and a
password chosen before that proof is dropped (somebody else may have registered with the address).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from badgehub.accounts.models import User
from badgehub.accounts.service import create_user, extra_address_owner, get_user_by_email
from badgehub.db import utcnow
from badgehub.extensions import db
from badgehub.issuing.errors import CredentialNotFound
from badgehub.issuing.keep_links import KeepTokenExpired, KeepTokenInvalid, address_tag, read_keep_token
from badgehub.issuing.models import IssuedCredential
from badgehub.issuing.service import get_credential
from badgehub.wallet.errors import InvalidKeepLink, KeepLinkExpired, KeepLinkUsed
from badgehub.wallet.models import KeepLinkUse


@dataclass(frozen=True)
class KeptBadge:
    """Who is now signed in, the badge they kept, and what happened to their account on the way."""

    user: User
    credential: IssuedCredential
    account_created: bool
    verified_now: bool
    password_removed: bool


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_keep_link(token: str, config: Mapping[str, Any]) -> IssuedCredential:
    """The credential a link is for, without using it up (for the page with the button). Raises
    :class:`InvalidKeepLink`, :class:`KeepLinkExpired` or :class:`KeepLinkUsed`."""
    try:
        public_id, tag = read_keep_token(token, config)
        credential = get_credential(public_id)
    except KeepTokenExpired as exc:
        raise KeepLinkExpired() from exc
    except (KeepTokenInvalid, CredentialNotFound) as exc:
        raise InvalidKeepLink() from exc
    if address_tag(credential.recipient_email_key) != tag:
        raise InvalidKeepLink()
    if db.session.get(KeepLinkUse, _digest(token)) is not None:
        raise KeepLinkUsed()
    return credential


def _account_for(credential: IssuedCredential, locale: str | None) -> tuple[User, bool]:
    user = get_user_by_email(credential.recipient_email)
    if user is None and (extra := extra_address_owner(credential.recipient_email)) is not None:
        user = extra[0]
    if user is not None:
        return user, False
    return create_user(credential.recipient_email, name=credential.recipient_name, verified=True,
                       locale=locale), True


def keep_badge(token: str, config: Mapping[str, Any], *, locale: str | None = None,
               now: dt.datetime | None = None) -> KeptBadge:
    """Use a keep link up: find or create the recipient's account (see the module docstring) and return it
    with the badge. Flushes. Raises what :func:`check_keep_link` raises (:class:`KeepLinkUsed` also for the
    second of two clicks racing)."""
    moment = now or utcnow()
    credential = check_keep_link(token, config)
    user, created = _account_for(credential, locale)
    try:
        with db.session.begin_nested():
            db.session.add(KeepLinkUse(token_hash=_digest(token), credential_id=credential.id, user_id=user.id,
                                       used_at=moment))
            db.session.flush()
    except IntegrityError as exc:
        raise KeepLinkUsed() from exc
    verified_now = password_removed = False
    if user.verified_at is None:
        user.verified_at, verified_now = moment, True
        if user.password_hash is not None:
            user.password_hash, password_removed = None, True
    user.last_signed_in_at = moment
    db.session.flush()
    return KeptBadge(user, credential, created, verified_now, password_removed)
