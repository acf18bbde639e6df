"""Share links: a public page ``/w/<token>`` showing a chosen set of a learner's credentials.

Services take the session, flush and never commit.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from badgehub.accounts.addresses import verified_keys
from badgehub.accounts.errors import InvalidName, WalletItemNotFound
from badgehub.accounts.models import User
from badgehub.accounts.service import normalise_name
from badgehub.audit.service import record
from badgehub.db import utcnow
from badgehub.extensions import db
from badgehub.issuing.models import IssuedCredential
from badgehub.wallet.errors import InvalidShare, ShareGone, ShareNotFound
from badgehub.wallet.models import ImportedCredential, WalletShare, WalletShareItem
from badgehub.wallet.service import imported_of, wallet_credentials

MAX_SHARES: Final = 100
MAX_SHARE_ITEMS: Final = 100
SHARE_TOKEN_BYTES: Final = 18  # 144 bits, 24 url-safe characters
_TOKEN_RE: Final = re.compile(r"[A-Za-z0-9_-]{16,64}")


def shares_of(user: User) -> list[WalletShare]:
    """``user``'s share links, newest first, with their items."""
    return list(db.session.scalars(select(WalletShare).where(WalletShare.user_id == user.id)
                                   .options(selectinload(WalletShare.items))
                                   .order_by(WalletShare.created_at.desc(), WalletShare.id.desc())))


def get_share_for(user: User, share_id: int) -> WalletShare:
    """One of ``user``'s shares; raises WalletItemNotFound for anyone else's."""
    share = db.session.get(WalletShare, share_id)
    if share is None or share.user_id != user.id:
        raise WalletItemNotFound()
    return share


def create_share(user: User, *, title: str, credential_ids: Sequence[str] = (), imported_ids: Sequence[int] = (),
                 expires_at: dt.datetime | None = None, now: dt.datetime | None = None) -> WalletShare:
    """Make a share link for a chosen set of ``user``'s credentials (public ids of ours, ids of imported ones).

    Raises InvalidShare (``details["fields"]``): no title or too long, nothing chosen, something chosen that is
    not in the wallet, an expiry in the past; or TooManyShares via InvalidShare when at the limit.
    """
    moment = now or utcnow()
    errors: dict[str, Any] = {}
    try:
        clean_title = normalise_name(title or "", required=True)
    except InvalidName:
        clean_title = ""
        errors["title"] = _l("Give the link a title of 1 to 200 characters (only you see it, and the people "
                             "you send it to).")
    chosen_ours = list(dict.fromkeys(str(public_id) for public_id in credential_ids))
    chosen_imported = list(dict.fromkeys(int(item) for item in imported_ids))
    if not chosen_ours and not chosen_imported:
        errors["credentials"] = _l("Choose at least one badge to share.")
    elif len(chosen_ours) + len(chosen_imported) > MAX_SHARE_ITEMS:
        errors["credentials"] = _l("Choose at most %(max)s badges.", max=MAX_SHARE_ITEMS)
    if expires_at is not None and expires_at <= moment:
        errors["expires_at"] = _l("Choose a date in the future, or no end date.")
    ours = {credential.public_id: credential for credential in wallet_credentials(user)}
    theirs = {row.id: row for row in imported_of(user)}
    if any(public_id not in ours for public_id in chosen_ours) or any(i not in theirs for i in chosen_imported):
        errors["credentials"] = _l("Only badges of your wallet can be shared.")
    count = db.session.scalar(select(func.count()).select_from(WalletShare).where(WalletShare.user_id == user.id))
    if (count or 0) >= MAX_SHARES:
        errors["title"] = _l("You have as many share links as you can. Delete an old one first.")
    if errors:
        raise InvalidShare(details={"fields": errors})
    share = WalletShare(user_id=user.id, title=clean_title, token=secrets.token_urlsafe(SHARE_TOKEN_BYTES),
                        created_at=moment, expires_at=expires_at)
    position = 0
    for public_id in chosen_ours:
        share.items.append(WalletShareItem(credential_id=ours[public_id].id, position=position))
        position += 1
    for imported_id in chosen_imported:
        share.items.append(WalletShareItem(imported_id=imported_id, position=position))
        position += 1
    db.session.add(share)
    db.session.flush()
    record("wallet.share_created", actor_id=user.id, subject_type="wallet_share", subject_id=share.id,
           details={"items": position, "expires": expires_at is not None})
    db.session.flush()
    return share


def revoke_share(user: User, share_id: int, *, now: dt.datetime | None = None) -> WalletShare:
    """Stop a share link at once (it answers 410 from now on). Revoking twice is harmless.
    Raises WalletItemNotFound for anyone else's share."""
    share = get_share_for(user, share_id)
    if share.revoked_at is None:
        share.revoked_at = now or utcnow()
        record("wallet.share_revoked", actor_id=user.id, subject_type="wallet_share", subject_id=share.id)
        db.session.flush()
    return share


def delete_share(user: User, share_id: int) -> None:
    """Forget a share link entirely (its address then answers 404). Raises WalletItemNotFound."""
    share = get_share_for(user, share_id)
    db.session.delete(share)
    record("wallet.share_deleted", actor_id=user.id, subject_type="wallet_share", subject_id=share_id)
    db.session.flush()


def public_share(token: str, *, now: dt.datetime | None = None) -> WalletShare:
    """The share behind ``/w/<token>``. Raises ShareNotFound (unknown) or ShareGone (revoked or expired),
    checked on every request: a revocation or an expiry takes effect at once."""
    if not isinstance(token, str) or not _TOKEN_RE.fullmatch(token):
        raise ShareNotFound()
    share = db.session.scalar(select(WalletShare).where(WalletShare.token == token))
    if share is None:
        raise ShareNotFound()
    if not share.is_live(now):
        raise ShareGone()
    return share


@dataclass(frozen=True)
class SharedItems:
    """What a share shows today: ours that are still in the owner's wallet, and imported ones."""

    credentials: list[IssuedCredential]
    imported: list[ImportedCredential]


def shared_items(share: WalletShare) -> SharedItems:
    """The share's credentials that still belong to its owner (an address removed takes its badges away)."""
    owner = db.session.get(User, share.user_id)
    keys = verified_keys(owner) if owner is not None else set()
    ours = [item.credential for item in share.items
            if item.credential is not None and item.credential.recipient_email_key in keys]
    imported = [item.imported for item in share.items if item.imported is not None]
    return SharedItems(ours, imported)


def shared_holder_name(token: str, public_id: str, *, now: dt.datetime | None = None) -> str | None:
    """The name of the person who shares the credential ``public_id`` through the live share ``token``: the owner
    of the share, whose wallet holds the verified address the badge was awarded to. None when the token is
    unknown, stopped or expired, when the share does not show that credential (any more), or when its owner
    gave no name. Never raises for a bad token: the page it serves stays the badge's page."""
    try:
        share = public_share(token, now=now)
    except (ShareNotFound, ShareGone):
        return None
    if not any(credential.public_id == public_id for credential in shared_items(share).credentials):
        return None
    owner = db.session.get(User, share.user_id)
    return (owner.name or "").strip() or None if owner is not None else None

