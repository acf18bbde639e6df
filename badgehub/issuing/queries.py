"""Reading issued credentials: by public id, an organisation's list (searched, filtered, paged), the catalogue
of achievements, and the public link of a credential."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from badgehub.achievements.models import Achievement
from badgehub.db import utcnow
from badgehub.errors import ValidationError
from badgehub.extensions import db
from badgehub.issuing.errors import CredentialNotFound, WrongOrganisation
from badgehub.issuing.models import IssuedCredential
from badgehub.keys.identity import base_url_of
from badgehub.organisations.models import Organisation

PUBLIC_ID_RE: Final = re.compile(r"[a-z2-7]{12}")
STATES: Final = ("active", "revoked", "expired")



# Built once: the credential page runs this on every view, and making the statement costs more than running it.
_BY_PUBLIC_ID: Final = select(IssuedCredential).where(IssuedCredential.public_id == bindparam("public_id"))
_WITH_CONTEXT: Final = _BY_PUBLIC_ID.options(joinedload(IssuedCredential.organisation),
                                             joinedload(IssuedCredential.achievement_version),
                                             joinedload(IssuedCredential.status_list))


def get_credential(public_id: str, *, with_context: bool = False) -> IssuedCredential:
    """Any credential by its public id (public pages and documents). Raises :class:`CredentialNotFound`.

    ``with_context`` reads its organisation, achievement version and status list in the same query (what the
    credential page and its live verification use), instead of one query each later."""
    if not isinstance(public_id, str) or not PUBLIC_ID_RE.fullmatch(public_id):
        raise CredentialNotFound()
    query = _WITH_CONTEXT if with_context else _BY_PUBLIC_ID
    credential: IssuedCredential | None = db.session.scalar(query, {"public_id": public_id})
    if credential is None:
        raise CredentialNotFound()
    return credential


def get_credential_for(organisation: Organisation, public_id: str) -> IssuedCredential:
    """The organisation's credential ``public_id``; another organisation's is :class:`CredentialNotFound` too."""
    credential = get_credential(public_id)
    if credential.organisation_id != organisation.id:
        raise CredentialNotFound()
    return credential


def get_achievement_for(organisation: Organisation, public_id: str) -> Achievement:
    """The organisation's achievement ``public_id`` (archived or not). Raises :class:`WrongOrganisation` (404)
    when it is unknown or another organisation's."""
    achievement: Achievement | None = db.session.scalar(select(Achievement).where(
        Achievement.public_id == public_id, Achievement.organisation_id == organisation.id))
    if achievement is None:
        raise WrongOrganisation()
    return achievement


@dataclass(frozen=True)
class CredentialPage:
    """One page of a credentials list: the rows, and how many match in all."""

    items: Sequence[IssuedCredential]
    total: int
    limit: int
    offset: int


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def credentials_of(organisation: Organisation, *, search: str | None = None, achievement_id: int | None = None,
                   state: str | None = None, batch_id: int | None = None, now: dt.datetime | None = None,
                   limit: int = 50, offset: int = 0, issued_since: dt.datetime | None = None,
                   changed_since: dt.datetime | None = None) -> CredentialPage:
    """The organisation's credentials, newest first: ``search`` in the recipient's e-mail or name (any case),
    ``achievement_id``, ``batch_id``, and ``state`` one of ``active`` (neither revoked nor expired),
    ``revoked``, ``expired`` (and not revoked); ``issued_since`` (issued at or after) and ``changed_since``
    (issued or revoked at or after: the only changes a credential goes through; expiry is its ``valid_until``)
    for clients that synchronise. Callers check the person may read them. Raises
    :class:`~badgehub.errors.ValidationError` for an unknown state."""
    moment = now or utcnow()
    query: Select[Any] = select(IssuedCredential).where(IssuedCredential.organisation_id == organisation.id)
    if issued_since is not None:
        query = query.where(IssuedCredential.issued_at >= issued_since)
    if changed_since is not None:
        query = query.where(or_(IssuedCredential.issued_at >= changed_since,
                                IssuedCredential.revoked_at >= changed_since))
    text = (search or "").strip().lower()
    if text:
        pattern = _like(text)
        query = query.where(or_(IssuedCredential.recipient_email_key.like(pattern, escape="\\"),
                                func.lower(IssuedCredential.recipient_name).like(pattern, escape="\\")))
    if achievement_id is not None:
        query = query.where(IssuedCredential.achievement_id == achievement_id)
    if batch_id is not None:
        query = query.where(IssuedCredential.batch_id == batch_id)
    if state == "revoked":
        query = query.where(IssuedCredential.revoked_at.is_not(None))
    elif state == "expired":
        query = query.where(IssuedCredential.revoked_at.is_(None), IssuedCredential.valid_until.is_not(None),
                            IssuedCredential.valid_until <= moment)
    elif state == "active":
        query = query.where(IssuedCredential.revoked_at.is_(None),
                            or_(IssuedCredential.valid_until.is_(None), IssuedCredential.valid_until > moment))
    elif state:
        raise ValidationError(details={"field": "state"})
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = list(db.session.scalars(
        query.options(selectinload(IssuedCredential.achievement_version))
        .order_by(IssuedCredential.issued_at.desc(), IssuedCredential.id.desc())
        .limit(max(1, min(limit, 500))).offset(max(0, offset))))
    return CredentialPage(items, int(total), limit, offset)


def achievements_catalogue(organisation: Organisation | None = None, *,
                           include_archived: bool = False) -> list[Achievement]:
    """Achievements of one organisation (or of all), by organisation then name, with their current version
    and organisation loaded (the CLI's list)."""
    query = select(Achievement).options(selectinload(Achievement.current_version),
                                        selectinload(Achievement.organisation))
    if organisation is not None:
        query = query.where(Achievement.organisation_id == organisation.id)
    if not include_archived:
        query = query.where(Achievement.archived_at.is_(None))
    found = list(db.session.scalars(query))
    return sorted(found, key=lambda a: (a.organisation.slug,
                                       (a.current_version.name if a.current_version else "").casefold(), a.id))


def credential_url(credential: IssuedCredential, config: Mapping[str, Any], suffix: str = "") -> str:
    """``<BASE_URL>/c/<public_id>`` (the QR code's target), or with ``suffix`` ``.json``, ``.jwt``, ``.png``,
    ``.svg`` one of its documents (``config``: the app's)."""
    return f"{base_url_of(config)}/c/{credential.public_id}{suffix}"
