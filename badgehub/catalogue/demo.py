"""The demo territory's themes, the tagging of its badges, and its employers' skills demand.

Both kinds of themes: UNESCO's six building blocks and five action domains of the territory's own. Two
organisations of the economic sector declare the competencies they look for, one of which no badge of the
territory recognises, so that the observatory shows a gap between demand and supply.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select

from badgehub.accounts.service import create_user, get_user_by_email
from badgehub.achievements.models import Achievement, AchievementVersion
from badgehub.catalogue.demand import declare_demand
from badgehub.catalogue.models import Theme
from badgehub.catalogue.themes import add_unesco_themes, create_theme, set_achievement_themes, themes_of
from badgehub.competencies.models import Competency
from badgehub.extensions import db
from badgehub.organisations.models import Organisation, OrganisationMember, Role
from badgehub.organisations.service import ProfileFields, create_organisation
from badgehub.territory.models import Area, Territory, TerritoryMembership
from badgehub.territory.service import Decision, decide_membership, request_membership

# (name, description): the territory's own action domains, in its language.
LOCAL_THEMES = (
    ("Transition écologique", "Apprendre à consommer, se déplacer et produire autrement."),
    ("Éducation aux médias et à l'information", "Comprendre, vérifier et produire l'information."),
    ("Savoir-faire manuels", "Fabriquer, réparer, entretenir : apprendre par le geste."),
    ("Citoyenneté", "Participer à la vie démocratique et associative du territoire."),
    ("Compétences d'avenir", "Ce que les métiers de demain demandent déjà."),
)

# Badge name (badgehub.achievements.demo) -> themes, by local theme name or UNESCO code.
TAGS: dict[str, tuple[str, ...]] = {
    "Réparer une crevaison": ("Savoir-faire manuels", "Transition écologique", "unesco-families-communities"),
    "Régler ses freins et son dérailleur": ("Savoir-faire manuels", "Transition écologique"),
    "Mécanicien·ne bénévole": ("Savoir-faire manuels", "Citoyenneté", "unesco-families-communities"),
    "Atelier numérique : protéger ses données": ("Éducation aux médias et à l'information",
                                                 "unesco-learning-technologies"),
    "Démarches en ligne en autonomie": ("Citoyenneté", "unesco-learning-technologies"),
    "Animer une séance du club de lecture": ("unesco-families-communities", "unesco-culture-of-learning"),
    "Délégué·e de classe": ("Citoyenneté", "unesco-inclusive-learning"),
    "Tuteur·rice entre élèves": ("unesco-inclusive-learning", "unesco-quality"),
    "Initiation au travail du bois": ("Savoir-faire manuels", "Compétences d'avenir", "unesco-workplace"),
    "Sécurité à l'atelier : machines à bois": ("unesco-workplace",),
    "Participer à une assemblée citoyenne": ("Citoyenneté",),
    "Porteur·se de projet de quartier": ("Citoyenneté", "unesco-families-communities"),
    "Chantier jeunes : embellir le quartier": ("Transition écologique", "Citoyenneté"),
    "Accueillir le public lors d'un événement": ("unesco-workplace",),
}

ENERGY_COOP = ("cooperative-energies-locales", ProfileFields(
    name="Coopérative Énergies Locales", type="company", sector="economic",
    description="Société coopérative qui rénove les logements du territoire et installe des panneaux solaires.",
    url="https://energies-locales.example.org", email="contact@energies-locales.example.org",
    locality="Val-d'Orge", country_code="FR"), "champtier", ("amandine@energies-locales.example.org",
                                                             "Amandine Leroy"))

# Organisation slug -> (competency code, note). ECO.3 and TEC.2 are recognised by no demo badge: the gap.
DEMAND = {
    "menuiserie-durand": (
        ("TEC.3", "Apprentis et stagiaires : bases du travail du bois."),
        ("TEC.2", "Nous passons à la découpe numérique : personne ne sait encore s'en servir ici."),
        ("COO.4", "Accueil des clients à l'atelier."),
    ),
    "cooperative-energies-locales": (
        ("ECO.3", "Conseillers en rénovation : repérer les consommations d'un logement."),
        ("TEC.3", ""),
        ("COO.3", "Former les nouveaux arrivants sur les chantiers."),
    ),
}


def _owner(organisation: Organisation) -> Any:
    return db.session.scalar(select(OrganisationMember).where(
        OrganisationMember.organisation_id == organisation.id, OrganisationMember.role == Role.OWNER)
        .order_by(OrganisationMember.id).limit(1)).user  # type: ignore[union-attr]


def seed_demo_themes_and_demand(territory: Territory, coordinator: Any, competencies: list[Competency]) -> None:
    """Give the demo territory its themes, tag the demo badges, add an energy cooperative and declare the two
    economic organisations' demand. Call after the demo badges exist. Flushes; the caller commits."""
    if not themes_of(territory):
        add_unesco_themes(territory, coordinator)
        for name, description in LOCAL_THEMES:
            create_theme(territory, coordinator, name, description)
    by_key: dict[str, Theme] = {}
    for theme in themes_of(territory):
        by_key[theme.code] = theme
        by_key[theme.name] = theme

    achievements = db.session.scalars(
        select(Achievement).join(AchievementVersion, AchievementVersion.id == Achievement.current_version_id)
        .join(TerritoryMembership, TerritoryMembership.organisation_id == Achievement.organisation_id)
        .where(TerritoryMembership.territory_id == territory.id)).all()
    for achievement in achievements:
        assert achievement.current_version is not None
        keys = TAGS.get(achievement.current_version.name)
        if keys:
            set_achievement_themes(achievement, [by_key[key].id for key in keys if key in by_key],
                                   _owner(achievement.organisation))

    slug, fields, area_code, (email, name) = ENERGY_COOP
    coop = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    if coop is None:
        owner = get_user_by_email(email) or create_user(email, name=name, verified=True)
        area = db.session.scalar(select(Area).where(Area.territory_id == territory.id, Area.code == area_code))
        coop = create_organisation(owner, ProfileFields(**{**fields.__dict__,
                                                           "area_id": area.id if area else None}), slug=slug,
                                                           config=current_app.config)
        membership = request_membership(coop, territory, owner, "Nous recrutons sur le territoire.")
        decide_membership(membership, Decision.APPROVE, coordinator)

    by_code = {competency.code: competency for competency in competencies}
    for organisation_slug, wanted in DEMAND.items():
        organisation = db.session.scalar(select(Organisation).where(Organisation.slug == organisation_slug))
        if organisation is None:
            continue
        for code, note in wanted:
            if code in by_code:
                declare_demand(organisation, by_code[code].id, note, _owner(organisation))
    db.session.flush()
