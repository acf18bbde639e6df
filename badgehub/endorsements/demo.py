"""Demo endorsements, so that a newcomer sees them at once: the territory gets its own signing identity and
vouches for the bicycle workshop; the library endorses one of the workshop's badges; the workshop endorses the
library; and a business endorses the demo learner's first badge, which the learner shows on its page.

Signed through the real service, like every endorsement. Idempotent: nothing is made twice (an endorsement that
stands already is left as it is).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app
from sqlalchemy import select

from badgehub.accounts.service import get_user_by_email
from badgehub.endorsements import service as endorsements
from badgehub.endorsements.errors import AlreadyEndorsed
from badgehub.endorsements.territory_issuers import ensure_territory_issuer
from badgehub.extensions import db
from badgehub.issuing import service as issuing
from badgehub.issuing.models import IssuedCredential
from badgehub.organisations.models import Organisation, OrganisationMember, Role
from badgehub.territory.models import Territory

WORKSHOP = "atelier-velo-solidaire"
LIBRARY = "mediatheque-des-tilleuls"
BUSINESS = "menuiserie-durand"


def _organisation(slug: str) -> Organisation | None:
    found: Organisation | None = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    return found


def _owner(organisation: Organisation) -> Any:
    member = db.session.scalar(select(OrganisationMember).where(
        OrganisationMember.organisation_id == organisation.id, OrganisationMember.role == Role.OWNER)
        .order_by(OrganisationMember.id).limit(1))
    return member.user if member is not None else None


def _quietly(make: Any) -> Any:
    try:
        return make()
    except AlreadyEndorsed:
        return None


def seed_demo_endorsements(territory_slug: str, coordinator_email: str, learner_email: str,
                           config: Mapping[str, Any]) -> None:
    """Create the demo endorsements (see the module docstring). Flushes; the caller commits."""
    territory = db.session.scalar(select(Territory).where(Territory.slug == territory_slug))
    coordinator = get_user_by_email(coordinator_email)
    workshop, library, business = _organisation(WORKSHOP), _organisation(LIBRARY), _organisation(BUSINESS)
    if territory is None or coordinator is None or workshop is None or library is None or business is None:
        return
    city = ensure_territory_issuer(territory, coordinator, config=current_app.config)
    _quietly(lambda: endorsements.endorse_organisation(
        city, coordinator, workshop, comment="Membre actif du territoire apprenant depuis sa création : ses "
        "ateliers sont ouverts à tous et ses badges décrivent honnêtement ce qui a été appris.", config=config))
    _quietly(lambda: endorsements.endorse_organisation(
        workshop, _owner(workshop), library, comment="Partenaire de nos ateliers du samedi : la médiathèque "
        "accueille nos séances et en garde la trace.", config=config))
    badges = issuing.achievements_catalogue(workshop)
    if badges:
        _quietly(lambda: endorsements.endorse_achievement(
            library, _owner(library), badges[0], comment="Nous avons vu ces ateliers : les critères du badge "
            "correspondent à ce que les participants font vraiment.",
            evidence_url="https://mediatheque.example.org/agenda/atelier-velo", config=config))
    learner = get_user_by_email(learner_email)
    credential = db.session.scalar(select(IssuedCredential).where(
        IssuedCredential.recipient_email_key == learner_email.casefold(), IssuedCredential.revoked_at.is_(None))
        .order_by(IssuedCredential.issued_at).limit(1))
    if learner is None or credential is None or credential.organisation_id == business.id:
        return
    if endorsements.of_credential(credential):
        return
    _invitation, token = endorsements.invite(credential, learner, message="Vous m'avez vu à l'atelier : pouvez-"
                                                                          "vous en témoigner ?")
    made = endorsements.endorse_by_invitation(
        token, business, _owner(business), comment="Lucas a fait son stage d'observation chez nous : soigneux, "
        "autonome avec les outils, il a réparé seul deux chaises de l'atelier.", config=config)
    endorsements.set_display(made, learner, shown=True)
