"""A territory with a catalogue: the issuing world (``tests.unit.issuing.world``) plus a framework, themes,
more badges, an area per organisation, a suspended member and a pending one.

Évry's catalogue then offers exactly four badges: A's "Réparer une crevaison" (TEC.1, theme "Transition
écologique", tags vélo/réparation) and "Fabriquer un tabouret" (Course, TEC.2, UNESCO workplace), B's "Club de
lecture" and "Démarches en ligne" (NUM.1, UNESCO learning technologies). A's "Animer un atelier" is archived;
C (economic, suspended) and D (pending) each have a badge that is not listed. Nantes has its own framework and
theme, which Évry's organisations cannot use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from badgehub.accounts.models import User
from badgehub.accounts.service import create_user
from badgehub.achievements import service as achievements
from badgehub.achievements.models import Achievement
from badgehub.competencies.models import Competency
from badgehub.competencies.service import CompetencyFields, create_competency
from badgehub.organisations.models import Organisation
from badgehub.organisations.service import ProfileFields, create_organisation
from badgehub.territory.models import Territory, Theme
from badgehub.territory.service import add_coordinator, decide_membership, request_membership
from badgehub.territory.themes import add_unesco_themes, create_theme, set_achievement_themes
from tests.unit.issuing.world import BADGE_PNG, World, build_world

EVRY_COMPETENCIES = (
    ("TEC", None, "Savoir-faire techniques"), ("TEC.1", "TEC", "Réparer un vélo"),
    ("TEC.1.A", "TEC.1", "Poser une rustine"), ("TEC.2", "TEC", "Travailler le bois"),
    ("NUM", None, "Culture numérique"), ("NUM.1", "NUM", "Démarches en ligne"),
)


@dataclass
class CatalogueWorld:
    base: World
    nantes_coordinator: User
    c: Organisation
    d: Organisation
    owner_c: User
    owner_d: User
    stool: Achievement
    online: Achievement
    suspended_badge: Achievement
    pending_badge: Achievement
    competencies: dict[str, Competency]
    nantes_competency: Competency
    transition: Theme
    unesco: dict[str, Theme]
    sea: Theme

    @property
    def territory(self) -> Territory:
        return self.base.territory

    def ids(self) -> dict[str, Any]:
        """Plain values for the functional tests."""
        return {**self.base.ids(), "stool": self.stool.public_id, "online": self.online.public_id,
                "suspended_badge": self.suspended_badge.public_id, "pending_badge": self.pending_badge.public_id,
                "coordinator": self.base.coordinator.get_id(), "nantes_coordinator": self.nantes_coordinator.get_id(),
                "owner_c": self.owner_c.get_id(), "c": self.c.slug,
                "competency_ids": {code: c.id for code, c in self.competencies.items()},
                "nantes_competency": self.nantes_competency.id, "transition": self.transition.id,
                "sea": self.sea.id, "unesco": {code: t.id for code, t in self.unesco.items()}}


def _fields(name: str, description: str, criteria: str, competency_ids: list[int], *, type_: str = "Badge",
            tags: str = "") -> achievements.AchievementFields:
    return achievements.AchievementFields(name=name, description=description, criteria_md=criteria,
                                          achievement_type=type_, tags=tags, in_language="fr",
                                          competency_ids=competency_ids)


def build_catalogue_world(prefix: str = "") -> CatalogueWorld:
    """Create the world (flushes; the caller commits if it wants to)."""
    w = build_world(prefix)
    evry, nantes = w.territory, w.other_territory
    competencies = {code: create_competency(evry, w.coordinator, code, CompetencyFields(name=name, parent_code=parent))
                    for code, parent, name in EVRY_COMPETENCIES}
    nantes_coordinator = create_user(f"{prefix}coord-nantes@example.org", name="Nantes", verified=True)
    add_coordinator(territory_slug=nantes.slug, user=nantes_coordinator, actor_id=None)
    nantes_competency = create_competency(nantes, nantes_coordinator, "MER", CompetencyFields(name="Naviguer"))
    unesco = {t.code: t for t in add_unesco_themes(evry, w.coordinator)}
    transition = create_theme(evry, w.coordinator, "Transition écologique", "Agir pour la planète.")
    sea = create_theme(nantes, nantes_coordinator, "La mer")

    w.a.area_id, w.b.area_id = w.area("centre").id, w.area("gare").id
    png = achievements.UploadedImage(BADGE_PNG)
    achievements.update_achievement(w.repair, w.owner_a, _fields(
        w.repair.current_version.name, w.repair.current_version.description,
        w.repair.current_version.criteria_md, [competencies["TEC.1.A"].id], tags="vélo, réparation"))
    stool = achievements.create_achievement(w.a, w.owner_a, _fields(
        "Fabriquer un tabouret", "Un petit meuble, pour une maison plus écologique.",
        "Scier, assembler, poncer.", [competencies["TEC.2"].id], type_="Course"), png)
    online = achievements.create_achievement(w.b, w.owner_b, _fields(
        "Démarches en ligne", "Sait faire ses démarches administratives sur Internet.",
        "Une démarche réelle, de bout en bout.", [competencies["NUM.1"].id]), png)
    achievements.archive_achievement(w.workshop, w.owner_a)
    set_achievement_themes(w.repair, [transition.id], w.owner_a)
    set_achievement_themes(stool, [unesco["unesco-workplace"].id], w.owner_a)
    set_achievement_themes(online, [unesco["unesco-learning-technologies"].id], w.owner_b)

    owner_c = create_user(f"{prefix}owner_c@example.org", name="Owner C", verified=True)
    owner_d = create_user(f"{prefix}owner_d@example.org", name="Owner D", verified=True)
    c = create_organisation(owner_c, ProfileFields(name="Garage Central", type="company", sector="economic"))
    d = create_organisation(owner_d, ProfileFields(name="Débutants", type="association", sector="community"))
    decide_membership(request_membership(c, evry, owner_c, "Bonjour"), "approve", w.coordinator)
    request_membership(d, evry, owner_d, "Bonjour")
    suspended_badge = achievements.create_achievement(c, owner_c, _fields(
        "Réparer un moteur", "Moteurs et vélos.", "Un moteur réparé.", [competencies["TEC.1"].id]), png)
    pending_badge = achievements.create_achievement(d, owner_d, _fields(
        "Réparer une chambre à air", "Vélo.", "Rustine.", []), png)
    membership = next(m for m in c.memberships if m.territory_id == evry.id)
    decide_membership(membership, "suspend", w.coordinator, "Contrôle en cours")
    return CatalogueWorld(w, nantes_coordinator, c, d, owner_c, owner_d, stool, online, suspended_badge,
                          pending_badge, competencies, nantes_competency, transition, unesco, sea)
