"""A territory as an issuer: the organisation row that signs in its name, and who may act for whom.

A territory endorses (and later awards pathway badges) through an ordinary organisation row tied to it by
:class:`~badgehub.endorsements.models.TerritoryIssuer`: it then has a did:web, keys, status lists and a public
profile at ``/issuers/<slug>`` through the very code every issuer uses, and is an approved member of its
territory. The coordinator who creates it is its first owner; every coordinator of the territory acts for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from badgehub.endorsements.models import TerritoryIssuer
from badgehub.extensions import db
from badgehub.organisations.models import Organisation
from badgehub.organisations.service import (
    BADGE_ISSUERS,
    ProfileFields,
    available_slug,
    create_organisation,
    membership_of,
    organisations_of,
)
from badgehub.territory.models import Territory
from badgehub.territory.service import (
    coordinated_territories,
    decide_membership,
    is_coordinator,
    request_membership,
    require_coordinator,
)
from badgehub.tokens.models import ApiToken


def territory_issuer_of(territory: Territory) -> Organisation | None:
    """The organisation that signs in ``territory``'s name, or None when it has none yet."""
    link: TerritoryIssuer | None = db.session.scalar(
        select(TerritoryIssuer).where(TerritoryIssuer.territory_id == territory.id))
    return link.organisation if link is not None else None


def territory_of_issuer(organisation: Organisation) -> Territory | None:
    """The territory ``organisation`` signs for, or None for an ordinary organisation."""
    link: TerritoryIssuer | None = db.session.scalar(
        select(TerritoryIssuer).where(TerritoryIssuer.organisation_id == organisation.id))
    return link.territory if link is not None else None


def ensure_territory_issuer(territory: Territory, actor: Any, *, config: Mapping[str, Any]) -> Organisation:
    """The territory's issuer, created on first call by a coordinator (its first owner): a local authority of
    the civic sector named after the territory, with its own keys, approved in the territory at once.
    Raises ``NotCoordinator`` (403) for anyone else, and what creating an organisation raises. Flushes."""
    require_coordinator(territory, actor)
    existing = territory_issuer_of(territory)
    if existing is not None:
        return existing
    slug = available_slug(territory.slug)
    organisation = create_organisation(actor, ProfileFields(
        name=territory.name, type="local_authority", sector="civic", description=territory.description or ""),
        slug=slug, config=config)
    db.session.add(TerritoryIssuer(territory_id=territory.id, organisation_id=organisation.id))
    membership = request_membership(organisation, territory, actor, "")
    decide_membership(membership, "approve", actor)
    db.session.flush()
    return organisation


def acts_for(organisation: Organisation, actor: Any) -> bool:
    """Whether ``actor`` may act in ``organisation``'s name (sign its endorsements, define its pathways, review
    its requests): one of its owners or issuers, or, for a territory's issuer, a coordinator of that territory, or
    one of its API tokens (the API checks the scope). Never true of a person's own issuer, which is no
    organisation: only :mod:`badgehub.endorsements.service` lets the person sign endorsements with it."""
    if isinstance(actor, ApiToken):  # the organisation's own systems, with a scope the API checked
        return actor.organisation_id == organisation.id
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    member = membership_of(organisation, actor)
    if member is not None and member.role in BADGE_ISSUERS:
        return True
    territory = territory_of_issuer(organisation)
    return territory is not None and is_coordinator(territory, actor)


def actor_id_of(actor: Any) -> int | None:
    """The person to record in the audit trail: the user, or the one who made the API token."""
    if isinstance(actor, ApiToken):
        return actor.created_by_id
    return getattr(actor, "id", None)


def endorsing_organisations(actor: Any) -> list[Organisation]:
    """The organisations ``actor`` may endorse for (see :func:`acts_for`), by name."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return []
    found = {member.organisation.id: member.organisation for member in organisations_of(actor)
             if member.role in BADGE_ISSUERS}
    for territory in coordinated_territories(actor):
        issuer = territory_issuer_of(territory)
        if issuer is not None:
            found.setdefault(issuer.id, issuer)
    return sorted(found.values(), key=lambda organisation: organisation.name.casefold())
