"""A small world for the issuing tests, built through the real services.

Two organisations of one territory (Évry, areas "centre" and "gare"): A (owner, issuer, viewer) with two PNG
badges, "Réparer une crevaison" (no expiry) and "Animer un atelier" (valid 30 days), and B (owner) with one SVG
badge, "Club de lecture". A second territory (Nantes, area "port") has neither organisation. Imported by the unit
and the functional tests (``from tests.unit.issuing.world import build_world``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from badgehub.accounts.models import User
from badgehub.accounts.service import create_user
from badgehub.achievements import service as achievements
from badgehub.achievements.models import Achievement
from badgehub.organisations.models import Organisation
from badgehub.organisations.service import ProfileFields, add_member, create_organisation
from badgehub.territory.models import Area, Territory
from badgehub.territory.service import add_coordinator, create_territory, decide_membership, request_membership
from tests.unit.achievements import samples

# An uploaded image is much cheaper than a drawn one, and these tests are about credentials, not drawings.
BADGE_PNG = samples.png((64, 64), (30, 90, 200, 255))
BADGE_SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
             b'<circle cx="32" cy="32" r="30" fill="#1d4ed8"/></svg>')

REPAIR = achievements.AchievementFields(
    name="Réparer une crevaison", description="Sait réparer une chambre à air crevée.",
    criteria_md="- démonter la roue\n- trouver le trou\n- poser une rustine", tags="vélo, réparation",
    in_language="fr")
WORKSHOP = achievements.AchievementFields(
    name="Animer un atelier", description="A animé un atelier de réparation pour le public.",
    criteria_md="Animer au moins une séance de deux heures.", in_language="fr", valid_for_days=30)
READING = achievements.AchievementFields(
    name="Club de lecture", description="A participé au club de lecture toute l'année.",
    criteria_md="Dix séances sur douze.", in_language="fr")


@dataclass
class World:
    territory: Territory
    other_territory: Territory
    coordinator: User
    a: Organisation
    b: Organisation
    owner_a: User
    issuer_a: User
    viewer_a: User
    owner_b: User
    repair: Achievement
    workshop: Achievement
    reading: Achievement

    def area(self, code: str) -> Area:
        for territory in (self.territory, self.other_territory):
            for area in territory.areas:
                if area.code == code:
                    return area
        raise KeyError(code)

    def ids(self) -> dict[str, Any]:
        """Plain values for tests that leave the session (functional tests)."""
        return {"a": self.a.slug, "b": self.b.slug, "repair": self.repair.public_id,
                "workshop": self.workshop.public_id, "reading": self.reading.public_id,
                "owner_a": self.owner_a.get_id(), "issuer_a": self.issuer_a.get_id(),
                "viewer_a": self.viewer_a.get_id(), "owner_b": self.owner_b.get_id(),
                "centre": self.area("centre").id, "gare": self.area("gare").id, "port": self.area("port").id}


def build_world(prefix: str = "") -> World:
    """Create the world (flushes; the caller commits if it wants to)."""
    territory = create_territory(name="Évry", slug=f"{prefix}evry", areas=[("centre", "Centre"), ("gare", "Gare")])
    other = create_territory(name="Nantes", slug=f"{prefix}nantes", areas=[("port", "Le Port")], default_locale="en")
    coordinator = create_user(f"{prefix}coord@example.org", name="Coordination", verified=True)
    add_coordinator(territory_slug=territory.slug, user=coordinator, actor_id=None)
    users = {name: create_user(f"{prefix}{name}@example.org", name=name.replace("_", " ").title(), verified=True)
             for name in ("owner_a", "issuer_a", "viewer_a", "owner_b")}
    org_a = create_organisation(users["owner_a"], ProfileFields(
        name="Atelier Vélo", type="association", sector="community", url="https://velo.example.org"))
    org_b = create_organisation(users["owner_b"], ProfileFields(
        name="Bibliothèque", type="library", sector="public_services"))
    add_member(org_a, users["owner_a"], users["issuer_a"], "issuer")
    add_member(org_a, users["owner_a"], users["viewer_a"], "viewer")
    for organisation, owner in ((org_a, users["owner_a"]), (org_b, users["owner_b"])):
        membership = request_membership(organisation, territory, owner, "Bonjour")
        decide_membership(membership, "approve", coordinator)
    png = achievements.UploadedImage(BADGE_PNG)
    repair = achievements.create_achievement(org_a, users["owner_a"], REPAIR, png)
    workshop = achievements.create_achievement(org_a, users["owner_a"], WORKSHOP, png)
    reading = achievements.create_achievement(org_b, users["owner_b"], READING, achievements.UploadedImage(BADGE_SVG))
    return World(territory, other, coordinator, org_a, org_b, users["owner_a"], users["issuer_a"], users["viewer_a"],
                 users["owner_b"], repair, workshop, reading)
