"""Demo credentials: a few awards per organisation, issued through the real service over the past months.

Every organisation that has achievements and may issue gets some: the demo learner receives the first badge of
each, invented participants (``example.net`` addresses) the others. Two show what verifiers say about the
unhappy cases: one credential is **revoked** (with its reason) and one is **expired** (issued long enough ago
for its badge's validity period to have ended). When no demo achievement has a validity period, one is created
for that purpose in the first organisation, through the achievements service.

Seeding is idempotent: every award carries an idempotency key ``demo:…``, so a second run issues nothing new.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from flask import current_app
from sqlalchemy import select

from badgehub.achievements import service as achievements
from badgehub.achievements.models import Achievement
from badgehub.db import utcnow
from badgehub.extensions import db
from badgehub.issuing import service as issuing
from badgehub.issuing.models import CredentialSource, IssuedCredential, RevocationReason
from badgehub.organisations.models import Organisation, OrganisationMember, Role
from badgehub.organisations.service import can_act

PARTICIPANTS: Final = (
    ("amina.traore@example.net", "Amina Traoré"), ("hugo.lefevre@example.net", "Hugo Lefèvre"),
    ("chloe.nguyen@example.net", "Chloé Nguyen"), ("yanis.belkacem@example.net", "Yanis Belkacem"),
    ("manon.roussel@example.net", "Manon Roussel"), ("theo.garnier@example.net", "Théo Garnier"),
)
PER_ACHIEVEMENT: Final = 3
MAX_ACHIEVEMENTS: Final = 3
REVOCATION_REASON: Final = "Décerné par erreur à une autre personne du même atelier."
RENEWABLE: Final = achievements.AchievementFields(
    name="Sécurité à vélo (à renouveler)", in_language="fr", valid_for_days=365,
    description="Connaît les règles de circulation à vélo en ville et les gestes de sécurité.",
    criteria_md="Suivre la séance de remise à niveau annuelle et réussir le parcours en ville.")


def _owner(organisation: Organisation) -> Any:
    member = db.session.scalar(select(OrganisationMember).where(
        OrganisationMember.organisation_id == organisation.id, OrganisationMember.role == Role.OWNER)
        .order_by(OrganisationMember.id).limit(1))
    return member.user if member is not None else None


def _issuing_organisations() -> list[tuple[Organisation, list[Achievement]]]:
    chosen = []
    for organisation in db.session.scalars(select(Organisation).order_by(Organisation.id)):
        if not can_act(organisation):
            continue
        found = issuing.achievements_catalogue(organisation)
        if found:
            chosen.append((organisation, found[:MAX_ACHIEVEMENTS]))
    return chosen


def _award(achievement: Achievement, email: str, name: str, key: str, when: dt.datetime,
           actor_id: int | None) -> IssuedCredential:
    organisation = achievement.organisation
    area_ids = {area.id for area in issuing.issuing_areas(organisation)}
    return issuing.issue_credential(
        organisation=organisation, achievement=achievement, recipient_email=email, recipient_name=name,
        actor_id=actor_id, source=CredentialSource.DEMO, idempotency_key=key, now=when,
        activity_start=when.date(), activity_end=when.date(),
        area_id=organisation.area_id if organisation.area_id in area_ids else None, config=current_app.config)


def _renewable(organisations: list[tuple[Organisation, list[Achievement]]]) -> Achievement | None:
    for organisation, _shown in organisations:
        for achievement in issuing.achievements_catalogue(organisation):
            if achievement.current_version is not None and achievement.current_version.valid_for_days:
                return achievement
    if not organisations:
        return None
    organisation = organisations[0][0]
    owner = _owner(organisation)
    existing = db.session.scalars(select(Achievement).where(Achievement.organisation_id == organisation.id)).all()
    for achievement in existing:
        if achievement.current_version is not None and achievement.current_version.name == RENEWABLE.name:
            return achievement
    return achievements.create_achievement(organisation, owner, RENEWABLE) if owner is not None else None


def seed_demo_credentials(learner_email: str, learner_name: str = "", *,
                          now: dt.datetime | None = None) -> list[IssuedCredential]:
    """Issue the demo credentials (see the module docstring) and return them; flushes, the caller commits.

    ``learner_email`` is the demo learner's address. Raises what
    :func:`~badgehub.issuing.service.issue_credential` raises (nothing, on a demo installation).
    """
    moment = now or utcnow()
    organisations = _issuing_organisations()
    issued: list[IssuedCredential] = []
    for organisation, found in organisations:
        owner = _owner(organisation)
        actor_id = owner.id if owner is not None else None
        for position, achievement in enumerate(found):
            recipients = [(learner_email, learner_name)] if position == 0 else []
            start = (organisation.id * 7 + position * PER_ACHIEVEMENT) % len(PARTICIPANTS)
            recipients += [PARTICIPANTS[(start + k) % len(PARTICIPANTS)]
                           for k in range(PER_ACHIEVEMENT - len(recipients))]
            for k, (email, name) in enumerate(recipients):
                age = 3 + 11 * position + 17 * k + organisation.id % 5
                validity = achievement.current_version.valid_for_days if achievement.current_version else None
                if validity:  # only the one meant to be expired is
                    age = min(age, max(1, validity // 2))
                when = moment - dt.timedelta(days=age)
                key = f"demo:{organisation.slug}:{achievement.public_id}:{email}"
                issued.append(_award(achievement, email, name, key, when, actor_id))
    # Always the same one (the first award to a participant), so that a second run revokes nothing more.
    revocable = next((c for c in issued if c.recipient_email != learner_email), None)
    if revocable is not None and revocable.revoked_at is None:
        issuing.revoke_credential(revocable, reason=RevocationReason.ERROR, note=REVOCATION_REASON,
                                  actor_id=revocable.created_by_id, now=revocable.issued_at + dt.timedelta(days=2),
                                  config=current_app.config)
    renewable = _renewable(organisations)
    if renewable is not None and renewable.current_version is not None:
        days = int(renewable.current_version.valid_for_days or 0)
        when = moment - dt.timedelta(days=days + 30)
        owner = _owner(renewable.organisation)
        issued.append(_award(renewable, learner_email, learner_name,
                             f"demo:{renewable.organisation.slug}:{renewable.public_id}:expired", when,
                             owner.id if owner is not None else None))
    db.session.flush()
    return issued
