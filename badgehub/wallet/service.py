"""The learner's wallet: which credentials are theirs, and the LinkedIn link of one.

A credential issued on this platform is in a learner's wallet when its ``recipient_email_key`` is one of the
learner's verified keys: the rule is written in :mod:`badgehub.accounts.addresses`. The rest of the wallet is
split by what it does: :mod:`~badgehub.wallet.status` (live status of imported badges),
:mod:`~badgehub.wallet.imports`, :mod:`~badgehub.wallet.shares`, :mod:`~badgehub.wallet.export` and
:mod:`~badgehub.wallet.erasure`.

**Status** shown for every credential, ours or imported, comes from the verification pipeline over the stored
document, never from database flags: for ours, :func:`badgehub.issuing.live.verify_issued` (the one answer of
the platform, never stale); for imported ones, :func:`badgehub.wallet.status.imported_report`.

Services take the session, flush and never commit; they never send mail (the caller does, after commit).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from badgehub.accounts.addresses import verified_keys
from badgehub.accounts.errors import WalletItemNotFound
from badgehub.accounts.models import User
from badgehub.extensions import db
from badgehub.issuing.models import IssuedCredential
from badgehub.wallet.models import ImportedCredential


def wallet_credentials(user: User) -> list[IssuedCredential]:
    """The credentials issued on this platform to one of ``user``'s verified addresses, newest first."""
    keys = verified_keys(user)
    if not keys:
        return []
    return list(db.session.scalars(
        select(IssuedCredential).where(IssuedCredential.recipient_email_key.in_(keys))
        .options(selectinload(IssuedCredential.achievement_version), selectinload(IssuedCredential.organisation),
                 selectinload(IssuedCredential.status_list))
        .order_by(IssuedCredential.issued_at.desc(), IssuedCredential.id.desc())))


def get_wallet_credential(user: User, public_id: str) -> IssuedCredential:
    """One of ``user``'s credentials by public id; raises WalletItemNotFound for anyone else's."""
    credential = db.session.scalar(select(IssuedCredential).where(IssuedCredential.public_id == public_id))
    if credential is None or credential.recipient_email_key not in verified_keys(user):
        raise WalletItemNotFound()
    return credential


def imported_of(user: User) -> list[ImportedCredential]:
    """``user``'s imported badges, newest first."""
    return list(db.session.scalars(select(ImportedCredential).where(ImportedCredential.user_id == user.id)
                                   .order_by(ImportedCredential.imported_at.desc(), ImportedCredential.id.desc())))


def get_imported(user: User, imported_id: int) -> ImportedCredential:
    """One of ``user``'s imported badges; raises WalletItemNotFound for anyone else's."""
    row = db.session.get(ImportedCredential, imported_id)
    if row is None or row.user_id != user.id:
        raise WalletItemNotFound()
    return row


def linkedin_url(*, name: str, organisation_name: str, issued: dt.datetime, url: str, cert_id: str,
                 expires: dt.datetime | None = None) -> str:
    """LinkedIn's "add a certification to your profile" address, pre-filled (no API call, no tracking: the
    learner's browser opens LinkedIn only if they click). Parameters as LinkedIn documents them for its
    Add-to-Profile button: startTask, name, organizationName, issueYear/issueMonth, expirationYear/Month,
    certUrl, certId."""

    params: dict[str, Any] = {"startTask": "CERTIFICATION_NAME", "name": name[:200],
                              "organizationName": organisation_name[:200], "issueYear": issued.year,
                              "issueMonth": issued.month}
    if expires is not None:
        params.update(expirationYear=expires.year, expirationMonth=expires.month)
    params.update(certUrl=url, certId=cert_id)
    return "https://www.linkedin.com/profile/add?" + urlencode(params)
