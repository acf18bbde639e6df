"""The holder DID a learner asks to be named by (``credentialSubject.id``) in the credentials issued to them.

Services take the session, flush and never commit.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy import select

from badgehub.accounts.errors import InvalidHolderDid
from badgehub.accounts.models import User, WalletProfile
from badgehub.accounts.service import extra_address_owner
from badgehub.audit.service import record
from badgehub.credentials.did import ed25519_from_did_key, is_did
from badgehub.credentials.errors import CredentialError
from badgehub.db import utcnow
from badgehub.extensions import db
from badgehub.fields import email_key

MAX_DID: Final = 500


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
    key = email_key(recipient_email or "")
    if not key:
        return None
    owner_id = db.session.scalar(select(User.id).where(User.email_key == key, User.verified_at.is_not(None)))
    if owner_id is None:
        extra = extra_address_owner(key)
        owner_id = extra[0].id if extra is not None else None
    if owner_id is None:
        return None
    return db.session.scalar(select(WalletProfile.holder_did).where(WalletProfile.user_id == owner_id))
