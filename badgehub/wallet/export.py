"""Everything the platform holds about a learner, for them to take away: ``account.json`` and a zip."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from badgehub.accounts.addresses import addresses_of
from badgehub.accounts.holder import holder_did_of
from badgehub.accounts.models import User
from badgehub.audit.service import record
from badgehub.db import utcnow
from badgehub.extensions import db
from badgehub.organisations.models import OrganisationMember
from badgehub.wallet.service import imported_of, wallet_credentials
from badgehub.wallet.shares import shares_of


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None


def account_data(user: User, *, share_url: Any = None) -> dict[str, Any]:
    """Everything the platform holds about ``user`` as a person, as JSON-ready data (the export's
    ``account.json``). ``share_url(token)`` makes the public address of a share link."""
    memberships = db.session.scalars(select(OrganisationMember).where(OrganisationMember.user_id == user.id)
                                     .options(selectinload(OrganisationMember.organisation)))
    return {
        "profile": {"email": user.email, "name": user.name, "locale": user.locale,
                    "created_at": _iso(user.created_at), "verified_at": _iso(user.verified_at),
                    "last_signed_in_at": _iso(user.last_signed_in_at), "has_password": user.password_hash is not None,
                    "holder_did": holder_did_of(user)},
        "addresses": [{"email": row.email, "verified_at": _iso(row.verified_at), "added_at": _iso(row.created_at)}
                      for row in addresses_of(user)],
        "shares": [{"title": share.title, "url": share_url(share.token) if share_url else share.token,
                    "created_at": _iso(share.created_at), "expires_at": _iso(share.expires_at),
                    "revoked_at": _iso(share.revoked_at),
                    "credentials": [item.credential.public_id for item in share.items if item.credential],
                    "imported": [item.imported_id for item in share.items if item.imported_id]}
                   for share in shares_of(user)],
        "memberships": [{"organisation": member.organisation.slug, "name": member.organisation.name,
                         "role": str(member.role.value), "since": _iso(member.created_at)}
                        for member in memberships],
        "imported": [{"id": row.id, "format": row.format, "source_url": row.source_url,
                      "imported_at": _iso(row.imported_at), "verdict_at_import": row.last_verdict}
                     for row in imported_of(user)],
    }


def export_zip(user: User, *, share_url: Any = None, now: dt.datetime | None = None) -> bytes:
    """A zip of everything ``user`` holds: each credential of ours as issued (``.json`` Data Integrity and
    ``.jwt``), each imported badge byte for byte, and ``account.json``. Records an audit event."""
    moment = now or utcnow()
    credentials = wallet_credentials(user)
    imported = imported_of(user)
    buffer = io.BytesIO()
    stamp = moment.astimezone(dt.UTC).timetuple()[:6]

    def add(name: str, data: bytes) -> None:
        info = zipfile.ZipInfo(name, date_time=stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, data)

    with zipfile.ZipFile(buffer, "w") as archive:
        for credential in credentials:
            add(f"credentials/{credential.public_id}.json", credential.document_json.encode("utf-8"))
            add(f"credentials/{credential.public_id}.jwt", credential.vc_jwt.encode("ascii"))
        for row in imported:
            add(f"imported/{row.id}.{row.format}", row.raw)
        data = account_data(user, share_url=share_url)
        data["exported_at"] = _iso(moment)
        data["credentials"] = [{"public_id": c.public_id, "credential_id": c.credential_id,
                                "issued_at": _iso(c.issued_at)} for c in credentials]
        add("account.json", json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"))
    record("wallet.exported", actor_id=user.id, subject_type="user", subject_id=user.id,
           details={"credentials": len(credentials), "imported": len(imported)})
    db.session.flush()
    return buffer.getvalue()
