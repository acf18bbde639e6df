"""The holder DID a learner asks to be named by (``credentialSubject.id``) in the credentials issued to them.

Services take the session, flush and never commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Final

from sqlalchemy import select

from badgehub.accounts.errors import InvalidHolderDid
from badgehub.accounts.models import User, WalletEmail, WalletProfile
from badgehub.audit.service import record
from badgehub.credentials.did import ed25519_from_did_key, is_did
from badgehub.credentials.errors import CredentialError
from badgehub.db import utcnow
from badgehub.extensions import db
from badgehub.fields import email_key

MAX_DID: Final = 500
_SLICE: Final = 500  # addresses per query (keeps the IN list within every database's limits)


def holder_did_of(user: User) -> str | None:
    """The did:key ``user`` asked to be named by in credentials issued to them from now on, if any."""
    profile = db.session.get(WalletProfile, user.id)
    return profile.holder_did if profile is not None else None


def set_holder_did(user: User, did: str | None, *, now: dt.datetime | None = None) -> str | None:
    """Set (or, with an empty value, remove) ``user``'s holder DID; returns it. Only a ``did:key`` of an
    Ed25519 key is accepted: it is the kind of DID a learner's own wallet app makes. Raises InvalidHolderDid."""
    value = (did or "").strip() or None
    if value is not None:
        if len(value) > MAX_DID or not is_did(value) or not value.startswith("did:key:"):
            raise InvalidHolderDid()
        try:
            ed25519_from_did_key(value)
        except CredentialError as exc:
            raise InvalidHolderDid() from exc
    profile = db.session.get(WalletProfile, user.id)
    if profile is None:
        profile = WalletProfile(user_id=user.id)
        db.session.add(profile)
    profile.holder_did = value
    profile.did_added_at = (now or utcnow()) if value is not None else None
    record("wallet.holder_did_changed", actor_id=user.id, subject_type="user", subject_id=user.id,
           details={"set": value is not None})
    db.session.flush()
    return value


def holder_did_for_address(recipient_email: str) -> str | None:
    """The holder DID of the account that owns ``recipient_email`` as a *verified* address, if it set one.

    Called by :func:`badgehub.issuing.service.issue_credential` when no DID was given, so that credentials
    issued to a learner after they added a DID carry it as ``credentialSubject.id``.
    """
    return holder_dids_for_addresses([recipient_email]).get(email_key(recipient_email or ""))


def holder_dids_for_addresses(recipient_emails: Iterable[str]) -> dict[str, str]:
    """:func:`holder_did_for_address` for many addresses at once (a batch's awards): ``{email key: DID}`` of the
    addresses whose owner set one (the account's own verified address, else a verified extra address), in three
    queries per few hundred addresses instead of two or three per address."""
    keys = sorted({key for key in (email_key(address or "") for address in recipient_emails) if key})
    owners: dict[str, int] = {}
    for start in range(0, len(keys), _SLICE):
        part = keys[start:start + _SLICE]
        owners.update(db.session.execute(select(User.email_key, User.id).where(
            User.email_key.in_(part), User.verified_at.is_not(None))).tuples().all())
        extra = [key for key in part if key not in owners]
        if extra:
            owners.update((str(key), user_id) for key, user_id in db.session.execute(
                select(WalletEmail.verified_key, WalletEmail.user_id).where(WalletEmail.verified_key.in_(extra))))
    ids = sorted(set(owners.values()))
    dids: dict[int, str] = {}
    for start in range(0, len(ids), _SLICE):
        dids.update((user_id, str(did)) for user_id, did in db.session.execute(
            select(WalletProfile.user_id, WalletProfile.holder_did).where(
                WalletProfile.user_id.in_(ids[start:start + _SLICE]), WalletProfile.holder_did.is_not(None))))
    return {key: dids[owner] for key, owner in owners.items() if owner in dids}
