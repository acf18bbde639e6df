"""Demo claim campaign: one open campaign in the demo territory, so the demo shows a poster and a claim page.

It is created through the real services for the first organisation of the territory that may issue and has a
badge (the bicycle workshop in the standard demo), open from now for :data:`DEMO_DAYS` days with a cap, and
gets two claims from invented participants: one confirmed (its credential issued through the claim flow),
one waiting for its confirmation. Seeding is idempotent: a second run finds the campaign by its title.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from flask import current_app
from sqlalchemy import select

from badgehub.claims import service as claims
from badgehub.claims.models import ClaimCampaign
from badgehub.db import utcnow
from badgehub.extensions import db
from badgehub.issuing import service as issuing
from badgehub.organisations.models import Organisation, OrganisationMember, Role
from badgehub.organisations.service import can_act
from badgehub.territory.models import MembershipStatus, Territory, TerritoryMembership

TITLE: Final = "Fête du vélo de Val-d'Orge"
NOTES: Final = "Stand de l'atelier, place de la mairie. Affiche à côté de la caisse."
DEMO_DAYS: Final = 180
CAP: Final = 60
CONFIRMED: Final = ("ines.moreau@example.net", "Inès Moreau")
PENDING: Final = ("paul.dubois@example.net", "Paul Dubois")
PREFERRED: Final = "atelier-velo-solidaire"


def _organisations(territory: Territory) -> list[Organisation]:
    found = db.session.scalars(
        select(Organisation).join(TerritoryMembership, TerritoryMembership.organisation_id == Organisation.id)
        .where(TerritoryMembership.territory_id == territory.id,
               TerritoryMembership.status == MembershipStatus.APPROVED)
        .order_by(Organisation.id)).all()
    return sorted(found, key=lambda organisation: organisation.slug != PREFERRED)


def _issuer(organisation: Organisation) -> OrganisationMember | None:
    member: OrganisationMember | None = db.session.scalar(select(OrganisationMember).where(
        OrganisationMember.organisation_id == organisation.id,
        OrganisationMember.role.in_((Role.ISSUER, Role.OWNER))).order_by(OrganisationMember.role.desc()).limit(1))
    return member


def seed_demo_claims(territory_slug: str, *, now: dt.datetime | None = None) -> ClaimCampaign | None:
    """Create the demo campaign in the territory ``territory_slug`` unless it exists; return it (None when no
    organisation of the territory can issue). Flushes; the caller commits."""
    territory = db.session.scalar(select(Territory).where(Territory.slug == territory_slug))
    if territory is None:
        return None
    moment = now or utcnow()
    for organisation in _organisations(territory):
        existing = db.session.scalar(select(ClaimCampaign).where(
            ClaimCampaign.organisation_id == organisation.id, ClaimCampaign.title == TITLE))
        if existing is not None:
            return existing
        achievements = issuing.achievements_catalogue(organisation)
        member = _issuer(organisation)
        if not achievements or member is None or not can_act(organisation):
            continue
        campaign = claims.create_campaign(organisation, member.user, claims.CampaignFields(
            achievement_public_id=achievements[0].public_id, title=TITLE, notes=NOTES,
            opens_at=moment - dt.timedelta(hours=1), closes_at=moment + dt.timedelta(days=DEMO_DAYS),
            max_claims=CAP), now=moment)
        asked = claims.request_claim(campaign, *CONFIRMED, locale="fr", now=moment)
        assert asked.token is not None
        claims.confirm_claim(campaign.short_code, asked.token, now=moment, config=current_app.config)
        claims.request_claim(campaign, *PENDING, locale="fr", now=moment)
        return campaign
    return None
