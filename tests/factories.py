"""Test data built through the real services, one scenario per builder, shared by every test directory.

Images: canned files for the upload tests, honest and hostile (``png``, ``bomb_png``, ``SVG_SCRIPT`` …).

``build_world``: two organisations of one territory (Évry, areas "centre" and "gare"): A (owner, issuer,
viewer) with two PNG badges, "Réparer une crevaison" (no expiry) and "Animer un atelier" (valid 30 days), and B
(owner) with one SVG badge, "Club de lecture". A second territory (Nantes, area "port") has neither organisation.

``build_catalogue_world``: that world plus a framework, themes, more badges, an area per organisation, a
suspended member and a pending one. Évry's catalogue then offers exactly four badges: A's "Réparer une crevaison"
(TEC.1, theme "Transition écologique", tags vélo/réparation) and "Fabriquer un tabouret" (Course, TEC.2, UNESCO
workplace), B's "Club de lecture" and "Démarches en ligne" (NUM.1, UNESCO learning technologies). A's "Animer un
atelier" is archived; C (economic, suspended) and D (pending) each have a badge that is not listed. Nantes has its
own framework and theme, which Évry's organisations cannot use.

Builders flush and never commit: the caller commits if it wants to (``setup(build_world)`` in functional tests).
"""

from __future__ import annotations

import functools
import io
import json
import struct
import zlib
from dataclasses import dataclass
from typing import Any

from flask import current_app
from PIL import Image, PngImagePlugin

from badgehub.accounts.models import User
from badgehub.accounts.service import create_user
from badgehub.achievements import service as achievements
from badgehub.achievements.models import Achievement
from badgehub.catalogue.models import Theme
from badgehub.catalogue.themes import add_unesco_themes, create_theme, set_achievement_themes
from badgehub.competencies.models import Competency
from badgehub.competencies.service import CompetencyFields, create_competency
from badgehub.credentials.baking import bake_png
from badgehub.issuing import service as issuing
from badgehub.organisations.models import Organisation
from badgehub.organisations.service import ProfileFields, create_organisation
from badgehub.organisations.staff import add_member
from badgehub.territory.models import Area, Territory
from badgehub.territory.service import add_coordinator, create_territory, decide_membership, request_membership


def png(size: tuple[int, int] = (64, 64), colour: tuple[int, ...] = (200, 40, 40, 255), mode: str = "RGBA",
        text: dict[str, str] | None = None) -> bytes:
    """A plain PNG; ``text`` adds tEXt chunks (metadata that must not survive an upload)."""
    image = Image.new(mode, size, colour)
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def baked_png() -> bytes:
    """A PNG carrying someone else's credential in an ``openbadgecredential`` iTXt chunk."""
    credential = {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": "urn:uuid:1",
                  "type": ["VerifiableCredential"]}
    return bake_png(png(), json.dumps(credential))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


@functools.cache
def bomb_png(side: int = 10_000) -> bytes:
    """A real decompression bomb: ``side``×``side`` grey pixels of zero (100 megapixels by default, more than
    Pillow's own limit), about a hundred kilobytes compressed."""
    rows = (b"\x00" * (side + 1)) * 100  # a filter byte and one byte per pixel, a hundred rows at a time
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(rows) for _ in range(side // 100)]
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"".join(parts))
            + _chunk(b"IEND", b""))


def truncated_png() -> bytes:
    """A PNG cut off in the middle of its pixel data."""
    image = Image.effect_noise((256, 256), 64).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data = buffer.getvalue()
    return data[: len(data) // 2]


PDF_RENAMED = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
               b"trailer << /Root 1 0 R >>\n%%EOF\n")

SVG_OK = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
          b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
          b'xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" viewBox="0 0 100 100" width="100" '
          b'height="100" inkscape:version="1.2">'
          b'<!-- drawn by hand -->'
          b'<metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></metadata>'
          b'<defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient></defs>'
          b'<title>Bike &amp; repair</title>'
          b'<circle cx="50" cy="50" r="40" fill="url(#g)" style="stroke: #123456"/>'
          b'<use xlink:href="#g"/><inkscape:layer/>'
          b'<text x="10" y="90">V\xc3\xa9lo &lt;3</text></svg>')

SVG_SCRIPT = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
              b'<script>alert(document.cookie)</script><rect width="10" height="10"/></svg>')
SVG_ONLOAD = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="10" height="10"/></svg>'
SVG_EXTERNAL_ENTITY = (b'<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
                       b'<svg xmlns="http://www.w3.org/2000/svg"><text>&xxe;</text></svg>')
SVG_DTD = (b'<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
           b'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
           b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="10" height="10"/></svg>')
SVG_BILLION_LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">'
                      b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
                      b'<svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>')
SVG_EXTERNAL_IMAGE = (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
                      b'<image xlink:href="https://tracker.example.net/pixel.png" width="10" height="10"/></svg>')
SVG_JAVASCRIPT_LINK = (b'<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)">'
                       b'<rect width="10" height="10"/></a></svg>')
SVG_USE_EXTERNAL = (b'<svg xmlns="http://www.w3.org/2000/svg">'
                    b'<use href="https://evil.example.net/sprite.svg#icon"/></svg>')
SVG_STYLE_URL = (b'<svg xmlns="http://www.w3.org/2000/svg"><style>rect { fill: url(https://evil.example.net/x) }'
                 b'</style><rect width="10" height="10"/></svg>')
SVG_STYLE_IMPORT = (b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import "https://evil.example.net/a.css";'
                    b'</style><rect width="10" height="10"/></svg>')
SVG_FOREIGN_OBJECT = (b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject width="10" height="10">'
                      b'<div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject></svg>')
SVG_HTML_SCRIPT = (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:h="http://www.w3.org/1999/xhtml">'
                   b'<h:script>alert(1)</h:script></svg>')
SVG_ANIMATE_HREF = (b'<svg xmlns="http://www.w3.org/2000/svg"><a><set attributeName="href" to="javascript:alert(1)"/>'
                    b'<rect width="10" height="10"/></a></svg>')
SVG_DATA_IMAGE = (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
                  b'<image width="10" height="10" xlink:href="data:image/png;base64,iVBORw0KGgo="/></svg>')
SVG_NO_NAMESPACE = b'<svg viewBox="0 0 10 10"><rect width="10" height="10" fill="red"/></svg>'


# An uploaded image is much cheaper than a drawn one, and these tests are about credentials, not drawings.
BADGE_PNG = png((64, 64), (30, 90, 200, 255))
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
        name="Atelier Vélo", type="association", sector="community", url="https://velo.example.org"),
        config=current_app.config)
    org_b = create_organisation(users["owner_b"], ProfileFields(
        name="Bibliothèque", type="library", sector="public_services"), config=current_app.config)
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



def build_endorsement_world() -> dict[str, Any]:
    """The world's plain values, with Léa's account and a credential issued to her by Atelier Vélo (``credential``,
    ``lea``, ``coordinator``, ``territory``): what the endorsement tests start from."""
    built = build_world()
    ids = built.ids()
    credential = issuing.issue_credential(
        organisation=built.a, achievement=built.repair, recipient_email="lea@example.net",
        recipient_name="Léa", actor_id=None, source="single", config=current_app.config)
    lea = create_user("lea@example.net", name="Léa", verified=True)
    ids.update(credential=credential.public_id, lea=lea.get_id(), coordinator=built.coordinator.get_id(),
               territory=built.territory.slug)
    return ids


def world_ids() -> dict[str, Any]:
    """The world as plain values (``World.ids``): one ``snapshot`` build for the many tests that read it."""
    return build_world().ids()

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
    c = create_organisation(owner_c, ProfileFields(name="Garage Central", type="company", sector="economic"),
                            config=current_app.config)
    d = create_organisation(owner_d, ProfileFields(name="Débutants", type="association", sector="community"),
                            config=current_app.config)
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


def seeded_demo() -> None:
    """Seed the demo as ``badgehub demo`` does: a ``snapshot`` build, so the demo tests seed it once per process."""
    from badgehub.demo import seed_demo

    seed_demo(current_app.config)
