"""The demo installation: a realistic learning territory with members in every sector and users in every role.

Everything goes through the same services as the web pages, so the demo exercises the real rules.
Seeding is idempotent: a second run finds the territory and only issues fresh sign-in links.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select

from badgehub.accounts.models import User
from badgehub.accounts.service import create_user, get_user_by_email, issue_sign_in_link
from badgehub.achievements.demo import seed_demo_achievements
from badgehub.competencies.demo import seed_demo_framework
from badgehub.extensions import db
from badgehub.organisations.models import Role
from badgehub.organisations.service import ProfileFields, create_organisation
from badgehub.organisations.staff import add_member
from badgehub.territory.models import Area, Territory
from badgehub.territory.service import (
    Decision,
    add_coordinator,
    create_territory,
    decide_membership,
    request_membership,
)

TERRITORY_SLUG = "val-d-orge"

AREAS = [
    ("centre", "Centre-ville"), ("aunettes", "Les Aunettes"), ("pyramides", "Les Pyramides"),
    ("bords-de-seine", "Bords de Seine"), ("champtier", "Le Champtier"),
]


@dataclass(frozen=True)
class DemoOrganisation:
    slug: str
    fields: ProfileFields
    area_code: str
    owner_email: str
    owner_name: str
    approved: bool = True


ORGANISATIONS = [
    DemoOrganisation("atelier-velo-solidaire", ProfileFields(
        name="Atelier Vélo Solidaire", type="association", sector="community",
        description="Atelier associatif de réparation de vélos : on apprend à réparer le sien, ensemble.",
        url="https://atelier-velo.example.org", email="bonjour@atelier-velo.example.org",
        locality="Val-d'Orge", country_code="FR"), "aunettes", "camille@atelier-velo.example.org", "Camille Roux"),
    DemoOrganisation("mediatheque-des-tilleuls", ProfileFields(
        name="Médiathèque des Tilleuls", type="library", sector="public_services",
        description="Médiathèque municipale : ateliers numériques, club de lecture, fablab du samedi.",
        url="https://mediatheque.example.org", email="contact@mediatheque.example.org",
        locality="Val-d'Orge", country_code="FR"), "centre", "nadia@mediatheque.example.org", "Nadia Benali"),
    DemoOrganisation("college-paul-eluard", ProfileFields(
        name="Collège Paul-Éluard", type="school", sector="education",
        description="Collège public : délégués, tutorat entre élèves, projets citoyens.",
        url="https://college-eluard.example.org", email="secretariat@college-eluard.example.org",
        locality="Val-d'Orge", country_code="FR"), "pyramides", "jerome@college-eluard.example.org",
        "Jérôme Martin"),
    DemoOrganisation("menuiserie-durand", ProfileFields(
        name="Menuiserie Durand", type="company", sector="economic",
        description="Menuiserie artisanale qui accueille des stagiaires et des apprentis.",
        url="https://menuiserie-durand.example.org", email="atelier@menuiserie-durand.example.org",
        locality="Val-d'Orge", country_code="FR"), "bords-de-seine", "paul@menuiserie-durand.example.org",
        "Paul Durand"),
    DemoOrganisation("conseil-citoyen-aunettes", ProfileFields(
        name="Conseil citoyen des Aunettes", type="association", sector="civic",
        description="Les habitants du quartier qui participent aux décisions de la ville.",
        email="conseil@aunettes.example.org", locality="Val-d'Orge", country_code="FR"),
        "aunettes", "fatou@aunettes.example.org", "Fatou Diallo"),
    DemoOrganisation("service-jeunesse", ProfileFields(
        name="Service Jeunesse de la ville", type="local_authority", sector="public_services",
        description="Accueil des 11–25 ans : BAFA, chantiers jeunes, engagement bénévole.",
        url="https://ville.example.org/jeunesse", email="jeunesse@ville.example.org",
        locality="Val-d'Orge", country_code="FR"), "champtier", "lea@ville.example.org", "Léa Girard",
        approved=False),
]

COORDINATOR = ("coordination@ville.example.org", "Sophie Lambert")
ADMIN = ("admin@badgehub.example.org", "Admin BadgeHub")
ISSUER = ("karim@atelier-velo.example.org", "Karim Haddad")
VIEWER = ("ines@mediatheque.example.org", "Inès Morel")
LEARNER = ("lucas.petit@example.net", "Lucas Petit")


@dataclass(frozen=True)
class DemoUser:
    role: str
    user: User


def seed_demo(config: Mapping[str, Any]) -> list[DemoUser]:
    """Create the demo territory, organisations and users unless they exist; return the demo users.

    Flushes; the caller commits.
    """
    territory = db.session.scalar(select(Territory).where(Territory.slug == TERRITORY_SLUG))
    if territory is None:
        _create_everything(config)
    return _demo_users()


def _user(email: str, name: str, **kwargs: object) -> User:
    existing = get_user_by_email(email)
    return existing or create_user(email, name=name, verified=True, **kwargs)  # type: ignore[arg-type]


def _create_everything(config: Mapping[str, Any]) -> None:
    territory = create_territory(
        name="Val-d'Orge, territoire apprenant", slug=TERRITORY_SLUG, default_locale="fr",
        description="Une ville apprenante : associations, médiathèque, écoles, entreprises et services de la ville "
                    "reconnaissent ensemble ce que les habitants apprennent, à tout âge et partout.",
        charter="Nous reconnaissons les apprentissages de chacun, dans et hors de l'école. Les organisations "
                "membres s'engagent à décrire honnêtement ce que leurs badges attestent.",
        areas=AREAS)
    coordinator = _user(*COORDINATOR)
    add_coordinator(territory_slug=territory.slug, user=coordinator, actor_id=None)
    competencies = seed_demo_framework(territory, coordinator)
    _user(*ADMIN, is_admin=True)
    areas = {area.code: area for area in db.session.scalars(select(Area).where(Area.territory_id == territory.id))}
    for demo in ORGANISATIONS:
        owner = _user(demo.owner_email, demo.owner_name)
        fields = ProfileFields(**{**demo.fields.__dict__, "area_id": areas[demo.area_code].id})
        organisation = create_organisation(owner, fields, slug=demo.slug, config=current_app.config)
        membership = request_membership(organisation, territory, owner,
                                        "Nous souhaitons rejoindre le territoire apprenant.")
        if demo.approved:
            decide_membership(membership, Decision.APPROVE, coordinator)
        if demo.slug == "atelier-velo-solidaire":
            add_member(organisation, owner, _user(*ISSUER), Role.ISSUER)
        if demo.slug == "mediatheque-des-tilleuls":
            add_member(organisation, owner, _user(*VIEWER), Role.VIEWER)
        seed_demo_achievements(organisation, owner, competencies)
    _user(*LEARNER)
    db.session.flush()
    # Themes, their tags on the badges above, and employers' skills demand (badgehub.catalogue.demo).
    from badgehub.catalogue.demo import seed_demo_themes_and_demand

    seed_demo_themes_and_demand(territory, coordinator, competencies)

    # Issued credentials (badgehub.issuing.demo): keep this call last, after every demo achievement exists.
    from badgehub.issuing.demo import seed_demo_credentials

    seed_demo_credentials(*LEARNER)
    # A year of awards to invented participants, so that the observatory has figures (badgehub.stats.demo).
    from badgehub.stats.demo import seed_demo_observatory

    seed_demo_observatory(TERRITORY_SLUG, config)
    # The learner's wallet (badgehub.wallet.demo): a share link and a badge imported from elsewhere.
    from badgehub.wallet.demo import seed_demo_wallet

    seed_demo_wallet(LEARNER[0])

    # An open claim campaign with its poster (badgehub.claims.demo), after the credentials.
    from badgehub.claims.demo import seed_demo_claims

    seed_demo_claims(TERRITORY_SLUG)
    # Endorsements (badgehub.endorsements.demo): the territory, organisations and a business vouch.
    from badgehub.endorsements.demo import seed_demo_endorsements

    seed_demo_endorsements(TERRITORY_SLUG, COORDINATOR[0], LEARNER[0], config)
    # Recognition requests waiting in the workshop's and the library's queues (badgehub.recognition.demo).
    from badgehub.recognition.demo import seed_demo_requests

    seed_demo_requests(LEARNER[0], config)
    # Two pathways, one with the learner part-way (badgehub.pathways.demo).
    from badgehub.pathways.demo import seed_demo_pathways

    seed_demo_pathways(TERRITORY_SLUG, COORDINATOR[0], LEARNER[0], config)


def _demo_users() -> list[DemoUser]:
    roles = [("coordinator of the territory", COORDINATOR[0]), ("platform admin", ADMIN[0])]
    roles += [(f"owner of {demo.fields.name}", demo.owner_email) for demo in ORGANISATIONS]
    roles += [("issuer at Atelier Vélo Solidaire", ISSUER[0]), ("viewer at Médiathèque des Tilleuls", VIEWER[0]),
              ("learner", LEARNER[0])]
    users = []
    for role, email in roles:
        user = get_user_by_email(email)
        if user is not None:
            users.append(DemoUser(role, user))
    return users


def sign_in_links(users: list[DemoUser], config: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """A fresh one-time sign-in link for each demo user: (role, e-mail, URL). Flushes."""
    links = []
    for demo_user in users:
        issued = issue_sign_in_link(demo_user.user, config=config)
        base_url = str(config["BASE_URL"]).rstrip("/")
        links.append((demo_user.role, demo_user.user.email, f"{base_url}/sign-in/link/{issued.token}"))
    return links
