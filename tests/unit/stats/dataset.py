"""A small hand-built dataset for the observatory, issued through the real services, with known figures.

On top of the issuing world (Évry: A "Atelier Vélo", association, community; B "Bibliothèque", library, public
services; areas centre and gare) it adds C, a school (education, formal), a competency framework (domains MAN
and SOC; REP under MAN, ANIM and LIRE under SOC), two local themes (eco on repair, citizen on reading) and B's
demand for ANIM. Learners l1…l12@example.org:

=========  ===========  =========================  ======  =====
month      badge        learners                   area    org
=========  ===========  =========================  ======  =====
2025-01    repair       l1–l6 (+ l7, revoked)      centre  A
2025-02    repair       l1, l2                     gare    A
2025-02    reading      l1–l7                      —       B
2025-03    workshop     l8–l10                     centre  A
2025-03    maths        l1–l3, l11, l12            gare    C
=========  ===========  =========================  ======  =====

Known figures: 23 credentials, 12 learners, 6 recognised by two organisations or more and in two sectors or
more; per month 6 / 9 / 8; sectors community 11, public services 7, education 5; areas centre 9, gare 7,
none 7; competencies REP 8, LIRE 7, ANIM 3 (3 learners: hidden publicly); non-formal 18 of 23.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import current_app

from badgehub.achievements import service as achievements
from badgehub.catalogue.demand import declare_demand
from badgehub.catalogue.themes import create_theme, set_achievement_themes
from badgehub.competencies.service import CompetencyFields, create_competency
from badgehub.issuing import service as issuing
from badgehub.issuing.models import IssuedCredential
from badgehub.organisations.models import Organisation
from badgehub.organisations.service import ProfileFields, create_organisation
from badgehub.territory.service import decide_membership, request_membership
from tests.factories import BADGE_PNG, World, build_world

MONTH = {1: dt.datetime(2025, 1, 15, 10, tzinfo=dt.UTC), 2: dt.datetime(2025, 2, 10, 9, tzinfo=dt.UTC),
         3: dt.datetime(2025, 3, 20, 16, tzinfo=dt.UTC)}


@dataclass
class Dataset:
    world: World
    c: Organisation
    credentials: list[IssuedCredential]
    revoked: IssuedCredential
    other_coordinator: Any

    def ids(self) -> dict[str, Any]:
        return {**self.world.ids(), "territory": self.world.territory.slug,
                "other": self.world.other_territory.slug, "coordinator": self.world.coordinator.get_id(),
                "other_coordinator": self.other_coordinator.get_id()}


def learner(number: int) -> str:
    return f"l{number}@example.org"


def build_dataset(prefix: str = "") -> Dataset:
    """Build the dataset (flushes; the caller commits if it wants to)."""
    from badgehub.accounts.service import create_user
    from badgehub.territory.service import add_coordinator

    world = build_world(prefix)
    territory, coordinator = world.territory, world.coordinator
    create_competency(territory, coordinator, "MAN", CompetencyFields(name="Savoir-faire manuels"))
    create_competency(territory, coordinator, "SOC", CompetencyFields(name="Vie sociale"))
    rep = create_competency(territory, coordinator, "REP", CompetencyFields(name="Réparer", parent_code="MAN"))
    anim = create_competency(territory, coordinator, "ANIM", CompetencyFields(name="Animer", parent_code="SOC"))
    lire = create_competency(territory, coordinator, "LIRE", CompetencyFields(name="Lire", parent_code="SOC"))
    for achievement, owner, competency in ((world.repair, world.owner_a, rep), (world.workshop, world.owner_a, anim),
                                           (world.reading, world.owner_b, lire)):
        version = achievement.current_version
        achievements.update_achievement(achievement, owner, achievements.AchievementFields(
            name=version.name, description=version.description, criteria_md=version.criteria_md,
            in_language=version.in_language, valid_for_days=version.valid_for_days, competency_ids=[competency.id]))
    eco = create_theme(territory, coordinator, "Transition écologique")
    citizen = create_theme(territory, coordinator, "Citoyenneté")
    set_achievement_themes(world.repair, [eco.id], world.owner_a)
    set_achievement_themes(world.reading, [citizen.id], world.owner_b)
    owner_c = create_user(f"{prefix}owner_c@example.org", name="Owner C", verified=True)
    school = create_organisation(owner_c, ProfileFields(name="Collège Jean Moulin", type="school",
                                                        sector="education"), config=current_app.config)
    decide_membership(request_membership(school, territory, owner_c, ""), "approve", coordinator)
    maths = achievements.create_achievement(school, owner_c, achievements.AchievementFields(
        name="Défi maths", description="A relevé le défi.", criteria_md="Résoudre cinq énigmes.", in_language="fr"),
        achievements.UploadedImage(BADGE_PNG))
    declare_demand(world.b, anim.id, "Nous cherchons des animateurs.", world.owner_b)
    other_coordinator = create_user(f"{prefix}coord-nantes@example.org", name="Coordination Nantes", verified=True)
    add_coordinator(territory_slug=world.other_territory.slug, user=other_coordinator, actor_id=None)

    centre, gare = world.area("centre").id, world.area("gare").id
    plan = [(world.repair, 1, range(1, 8), centre), (world.repair, 2, range(1, 3), gare),
            (world.reading, 2, range(1, 8), None), (world.workshop, 3, range(8, 11), centre),
            (maths, 3, [1, 2, 3, 11, 12], gare)]
    issued = []
    for achievement, month, numbers, area in plan:
        for number in numbers:
            issued.append(issuing.issue_credential(
                organisation=achievement.organisation, achievement=achievement, recipient_email=learner(number),
                recipient_name=f"Learner {number}", actor_id=None, source="cli", area_id=area, now=MONTH[month],
                config=current_app.config))
    [revoked] = [c for c in issued if c.recipient_email == learner(7) and c.achievement_id == world.repair.id]
    issuing.revoke_credential(revoked, note="Issued by mistake.", actor_id=None, config=current_app.config)
    return Dataset(world, school, issued, revoked, other_coordinator)
