"""Demo pathways, so that a newcomer sees them at once: the territory's own "citizen and digital" pathway, awarded
in its name, and the bicycle workshop's mechanics pathway, towards a qualification, on which the demo learner is
part-way (their wallet shows what to earn next, and where).

Made through the real services, like every pathway: published, and the learner's missing first step awarded after
publishing, so that the progress is what issuing computes. Idempotent: a pathway whose name exists is left as it
is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import select

from badgehub.accounts.service import get_user_by_email
from badgehub.achievements import service as achievements
from badgehub.achievements.models import Achievement, AchievementVersion
from badgehub.endorsements.territory_issuers import ensure_territory_issuer
from badgehub.extensions import db
from badgehub.fields import email_key
from badgehub.issuing import service as issuing
from badgehub.issuing.models import CredentialSource, IssuedCredential
from badgehub.organisations.models import Organisation, OrganisationMember, Role
from badgehub.pathways import service as pathways
from badgehub.pathways.models import Pathway
from badgehub.territory.models import Territory

WORKSHOP: Final = "atelier-velo-solidaire"
CITIZEN: Final = "Parcours citoyen et numérique"
MECHANICS: Final = "Parcours mécanique vélo"


def _badge(name: str) -> Achievement | None:
    found: Achievement | None = db.session.scalar(
        select(Achievement).join(AchievementVersion, Achievement.current_version_id == AchievementVersion.id)
        .where(AchievementVersion.name == name, Achievement.archived_at.is_(None)).limit(1))
    return found


def _ids(*names: str) -> tuple[str, ...]:
    return tuple(badge.public_id for name in names if (badge := _badge(name)) is not None)


def _exists(organisation: Organisation, name: str) -> bool:
    return db.session.scalar(select(Pathway.id).where(Pathway.organisation_id == organisation.id,
                                                      Pathway.name == name)) is not None


def _owner(organisation: Organisation) -> Any:
    member = db.session.scalar(select(OrganisationMember).where(
        OrganisationMember.organisation_id == organisation.id, OrganisationMember.role == Role.OWNER)
        .order_by(OrganisationMember.id).limit(1))
    return member.user if member is not None else None


def _publish(organisation: Organisation, actor: Any, fields: pathways.PathwayFields) -> None:
    pathway = pathways.create_pathway(organisation, actor, fields)
    pathways.set_status(pathway, actor, "published")


def seed_demo_pathways(territory_slug: str, coordinator_email: str, learner_email: str,
                       config: Mapping[str, Any]) -> None:
    """Create the demo pathways (see the module docstring). Flushes; the caller commits."""
    territory = db.session.scalar(select(Territory).where(Territory.slug == territory_slug))
    coordinator = get_user_by_email(coordinator_email)
    workshop = db.session.scalar(select(Organisation).where(Organisation.slug == WORKSHOP))
    if territory is None or coordinator is None or workshop is None:
        return
    city = ensure_territory_issuer(territory, coordinator, config=config)
    if not _exists(city, CITIZEN):
        badge = achievements.create_achievement(city, coordinator, achievements.AchievementFields(
            name="Citoyen·ne numérique de Val-d'Orge",
            description="A pris part à la vie du quartier et sait se débrouiller en ligne.",
            criteria_md="Terminer le parcours citoyen et numérique du territoire.", in_language="fr"))
        _publish(city, coordinator, pathways.PathwayFields(
            name=CITIZEN, in_language="fr", achievement=badge.public_id,
            description="S'engager dans son quartier et devenir autonome avec le numérique : des badges à obtenir "
                        "auprès des associations, de la médiathèque et de la ville.",
            groups=(pathways.GroupInput(title="S'engager dans le quartier", min_count=1, achievements=_ids(
                        "Participer à une assemblée citoyenne", "Chantier jeunes : embellir le quartier",
                        "Accueillir le public lors d'un événement")),
                    pathways.GroupInput(title="Se débrouiller en ligne", ordered=True, achievements=_ids(
                        "Atelier numérique : protéger ses données", "Démarches en ligne en autonomie")))))
    owner = _owner(workshop)
    if owner is None or _exists(workshop, MECHANICS):
        return
    badge = achievements.create_achievement(workshop, owner, achievements.AchievementFields(
        name="Mécanicien·ne cycle de quartier",
        description="Répare, règle et aide les autres à entretenir leur vélo.",
        criteria_md="Terminer le parcours mécanique vélo de l'atelier.", in_language="fr"))
    _publish(workshop, owner, pathways.PathwayFields(
        name=MECHANICS, in_language="fr", achievement=badge.public_id,
        description="De la première rustine à la permanence de l'atelier : un premier pas vers les métiers du cycle.",
        qualification_name="CQP Technicien·ne cycles (France compétences)",
        qualification_uri="https://www.francecompetences.fr/",
        job_profile="Le ou la technicien·ne cycles accueille les clients, diagnostique, répare et règle vélos et "
                    "vélos à assistance électrique, et conseille sur leur entretien.",
        groups=(pathways.GroupInput(title="Les gestes de base", ordered=True, achievements=_ids(
                    "Réparer une crevaison", "Régler ses freins et son dérailleur")),
                pathways.GroupInput(title="Transmettre", min_count=1, achievements=_ids(
                    "Mécanicien·ne bénévole", "Accueillir le public lors d'un événement")))))
    first = _badge("Réparer une crevaison")
    key = email_key(learner_email)
    if first is None or db.session.scalar(select(IssuedCredential.id).where(
            IssuedCredential.achievement_id == first.id, IssuedCredential.recipient_email_key == key)) is not None:
        return
    learner = get_user_by_email(learner_email)
    issuing.issue_credential(organisation=workshop, achievement=first, recipient_email=learner_email,
                             recipient_name=learner.name if learner is not None else "", actor_id=owner.id,
                             source=CredentialSource.DEMO, idempotency_key=f"demo:pathway:{first.public_id}:{key}",
                             config=config)
