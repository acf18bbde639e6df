"""A learner's extra e-mail addresses: added, proven by a link, removed; and the keys they make.

**The matching rule** (written here and in the README, applied nowhere else): a credential issued on this
platform is in a learner's wallet when its ``recipient_email_key`` is one of the learner's *verified keys*
(:func:`verified_keys`):

* the account's own address, once the account is verified, and
* every extra address (:class:`~badgehub.accounts.models.WalletEmail`) the learner proved by following the
  link e-mailed to it while signed in to this account.

Keys come from :func:`badgehub.fields.email_key` (surrounding spaces removed, the whole address
lower-cased) — the same function that made ``recipient_email_key`` when the credential was issued. So
``Ana@X.org`` and ``ana@x.org`` are one address, while ``ana+club@x.org`` and ``ana@x.org`` are **two**
addresses: we do not guess provider-specific aliasing (plus tags, dots in Gmail…); a learner who receives
badges at a tagged address adds it as an extra address. An address verified by one account can be claimed
by no other (unique ``verified_key``), nor can another account's own address.

Services take the session, flush and never commit; they never send mail (the caller does, after commit).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from badgehub.accounts.errors import (
    AddressAlreadyAdded,
    AddressIsYours,
    AddressTaken,
    InvalidAddressLink,
    TooManyAddresses,
    WalletItemNotFound,
)
from badgehub.accounts.models import User, WalletEmail
from badgehub.accounts.service import normalise_email
from badgehub.audit.service import record
from badgehub.db import utcnow
from badgehub.extensions import db
from badgehub.fields import email_key

MAX_ADDRESSES: Final = 10
ADDRESS_LINK_LIFETIME: Final = dt.timedelta(hours=48)
_TOKEN_RE: Final = re.compile(r"[A-Za-z0-9_-]{16,64}")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def verified_keys(user: User) -> set[str]:
    """The e-mail keys whose credentials are ``user``'s (see the module docstring for the rule)."""
    keys = {user.email_key} if user.verified_at is not None else set()
    keys.update(db.session.scalars(select(WalletEmail.verified_key).where(
        WalletEmail.user_id == user.id, WalletEmail.verified_key.is_not(None))))
    return {key for key in keys if key}


def addresses_of(user: User) -> list[WalletEmail]:
    """The extra addresses of ``user``, in the order they were added."""
    return list(db.session.scalars(select(WalletEmail).where(WalletEmail.user_id == user.id)
                                   .order_by(WalletEmail.created_at, WalletEmail.id)))


@dataclass(frozen=True)
class AddressLink:
    """An address just added (or asked again): the secret of its confirmation link goes into the e-mail only."""

    address: WalletEmail
    token: str


def add_address(user: User, email: str, *, now: dt.datetime | None = None) -> AddressLink:
    """Add ``email`` to ``user``'s wallet, unconfirmed, and return the confirmation link's secret.

    Asking again for an unconfirmed address makes a new link. Whether another account holds the address is
    not said here (that would tell anyone who has an account); it is refused on confirmation. Raises
    InvalidEmail, AddressIsYours, AddressAlreadyAdded (already confirmed) or TooManyAddresses.
    """
    moment = now or utcnow()
    address = normalise_email(email)
    key = email_key(address)
    if key == user.email_key:
        raise AddressIsYours()
    row = db.session.scalar(select(WalletEmail).where(WalletEmail.user_id == user.id, WalletEmail.email_key == key))
    if row is not None and row.is_verified:
        raise AddressAlreadyAdded()
    if row is None:
        count = db.session.scalar(select(func.count()).select_from(WalletEmail)
                                  .where(WalletEmail.user_id == user.id)) or 0
        if count >= MAX_ADDRESSES:
            raise TooManyAddresses()
        row = WalletEmail(user_id=user.id, email=address, email_key=key, created_at=moment)
        db.session.add(row)
    token = secrets.token_urlsafe(32)
    row.email = address
    row.token_hash = _digest(token)
    row.token_expires_at = moment + ADDRESS_LINK_LIFETIME
    db.session.flush()
    return AddressLink(row, token)


def _address_by_link(user: User, token: str, moment: dt.datetime) -> WalletEmail:
    if not isinstance(token, str) or not _TOKEN_RE.fullmatch(token):
        raise InvalidAddressLink()
    row = db.session.scalar(select(WalletEmail).where(WalletEmail.token_hash == _digest(token)))
    # A link only works for the account that asked for it: someone who slipped their own address request into
    # a victim's mailbox cannot get the victim's badges by having them click it while signed in as themselves.
    if row is None or row.user_id != user.id or row.token_expires_at is None or row.token_expires_at <= moment:
        raise InvalidAddressLink()
    return row


def check_address_link(user: User, token: str, *, now: dt.datetime | None = None) -> WalletEmail:
    """The address a confirmation link is for, without using it (the page that asks to confirm).

    Raises InvalidAddressLink (unknown, used, expired, or another account's)."""
    return _address_by_link(user, token, now or utcnow())


def confirm_address(user: User, token: str, *, now: dt.datetime | None = None) -> WalletEmail:
    """Use a confirmation link: the address becomes ``user``'s, and the credentials issued to it join the wallet.

    Raises InvalidAddressLink, or AddressTaken when another account's own address is this one or another
    account confirmed it first (also when it wins a race, through the unique ``verified_key``).
    """
    moment = now or utcnow()
    row = _address_by_link(user, token, moment)
    other_account = db.session.scalar(select(User.id).where(User.email_key == row.email_key, User.id != user.id))
    other_wallet = db.session.scalar(select(WalletEmail.id).where(WalletEmail.verified_key == row.email_key,
                                                                  WalletEmail.id != row.id))
    if other_account is not None or other_wallet is not None:
        raise AddressTaken()
    try:
        with db.session.begin_nested():
            row.verified_key = row.email_key
            row.verified_at = moment
            row.token_hash = None
            row.token_expires_at = None
            db.session.flush()
    except IntegrityError as exc:
        raise AddressTaken() from exc
    record("wallet.address_verified", actor_id=user.id, subject_type="wallet_email", subject_id=row.id)
    db.session.flush()
    return row


def remove_address(user: User, address_id: int) -> None:
    """Remove one of ``user``'s extra addresses: its credentials leave the wallet (and its share pages).
    Raises WalletItemNotFound for another account's or an unknown address."""
    row = db.session.get(WalletEmail, address_id)
    if row is None or row.user_id != user.id:
        raise WalletItemNotFound()
    db.session.delete(row)
    record("wallet.address_removed", actor_id=user.id, subject_type="wallet_email", subject_id=address_id)
    db.session.flush()
