"""A person as an issuer: the organisation row that signs the endorsements they make in their own name.

Open recognition lets a person vouch for a learner ("I saw her lead these workshops"). Such an endorsement is
signed like any other, by an issuer this platform keeps custodially: an organisation row tied to the person by
:class:`~badgehub.endorsements.models.PersonalIssuer`, made on first use, with its own did:web
(``did:web:<host>:issuers:person-<random>``), Ed25519 and RSA keys encrypted at rest, status lists and a public
page at ``/issuers/<slug>`` that shows only the name the person chose. The row is never an organisation to
anyone else: it has **no members** (nobody manages it, issues badges or joins a territory with it), no
territory membership (so no registry, catalogue, observatory or territory list reaches it), and the person
acts for it through :func:`is_personal_issuer_of` alone.

When the person's account is erased, :func:`erase_personal_issuer` withdraws every endorsement still standing,
blanks their comments and stored documents and the issuer's name: nothing personal is left.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from typing import Any, Final

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from badgehub.accounts.models import User
from badgehub.endorsements.models import Endorsement, PersonalIssuer
from badgehub.errors import ValidationError
from badgehub.extensions import db
from badgehub.fields import tidy_line
from badgehub.keys.service import create_organisation_keys, installation_kek
from badgehub.organisations.models import Organisation, OrganisationType, Sector

SLUG_PREFIX: Final = "person-"
MAX_NAME: Final = 200


def _person_id(user: Any) -> int | None:
    """``user``'s id when it is a person's account (an API token or an anonymous visitor is nobody's person)."""
    return user.id if isinstance(user, User) else None


def personal_issuer_of(user: Any) -> Organisation | None:
    """The organisation row that signs in ``user``'s own name, or None when they never endorsed so."""
    user_id = _person_id(user)
    if user_id is None:
        return None
    link: PersonalIssuer | None = db.session.scalar(select(PersonalIssuer).where(PersonalIssuer.user_id == user_id))
    return link.organisation if link is not None else None


def personal_link_of(organisation: Organisation) -> PersonalIssuer | None:
    """The link when ``organisation`` is a person's issuer, else None."""
    found: PersonalIssuer | None = db.session.scalar(
        select(PersonalIssuer).where(PersonalIssuer.organisation_id == organisation.id))
    return found


def is_personal_issuer(organisation: Organisation) -> bool:
    """Whether ``organisation`` is a person's issuer (shown and counted as a person, never as an organisation)."""
    return personal_link_of(organisation) is not None


def is_personal_issuer_of(organisation: Organisation, user: Any) -> bool:
    """Whether ``organisation`` signs in ``user``'s own name."""
    user_id = _person_id(user)
    if user_id is None:
        return False
    link = personal_link_of(organisation)
    return link is not None and link.user_id == user_id


def clean_display_name(value: str | None, user: Any) -> str:
    """The name a person shows on their endorsements: one line, 1 to :data:`MAX_NAME` characters, and never an
    e-mail address. Raises ``ValidationError`` (``details.fields.display_name``)."""
    name = tidy_line(value)
    problem = None
    if not name:
        problem = _l("Give the name to show with your endorsement.")
    elif len(name) > MAX_NAME:
        problem = _l("Write at most %(max)s characters.", max=MAX_NAME)
    elif "@" in name or name.casefold() == (getattr(user, "email", "") or "").casefold():
        problem = _l("Show a name, not an e-mail address.")
    if problem is not None:
        raise ValidationError(details={"fields": {"display_name": problem}})
    return name


def ensure_personal_issuer(user: Any, *, display_name: str, config: Mapping[str, Any]) -> Organisation:
    """``user``'s issuer, made on first call (keys included, in the caller's transaction), its name set to
    ``display_name`` (already cleaned). Raises ``KekMissing`` when the installation cannot protect keys.
    Flushes."""
    existing = personal_issuer_of(user)
    if existing is not None:
        existing.name = display_name
        db.session.flush()
        return existing
    organisation = Organisation(slug=f"{SLUG_PREFIX}{secrets.token_hex(6)}", name=display_name,
                                type=OrganisationType.OTHER, sector=Sector.COMMUNITY, description="")
    db.session.add(organisation)
    db.session.flush()
    db.session.add(PersonalIssuer(user_id=user.id, organisation_id=organisation.id))
    create_organisation_keys(organisation, installation_kek(config), actor_id=user.id)
    db.session.flush()
    return organisation


def erase_personal_issuer(user: Any, *, withdraw: Any, now: dt.datetime | None = None) -> int:
    """Before ``user``'s account goes: each endorsement their issuer made that still stands is withdrawn
    (``withdraw(endorsement, now=…)``, which sets its status bit and signs the list again), then every one
    loses its comment, evidence and stored documents, and the issuer its name. Returns how many endorsements
    were blanked. Flushes."""
    organisation = personal_issuer_of(user)
    if organisation is None:
        return 0
    count = 0
    for endorsement in db.session.scalars(select(Endorsement).where(Endorsement.endorser_id == organisation.id)):
        if endorsement.withdrawn_at is None:
            withdraw(endorsement, now=now)
        endorsement.comment = ""
        endorsement.evidence_url = None
        endorsement.document_json = ""
        endorsement.vc_jwt = ""
        count += 1
    organisation.name = ""
    db.session.flush()
    return count
