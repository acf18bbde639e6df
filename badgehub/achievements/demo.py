"""The demo organisations' badges: two or three each, in French, aligned to the demo framework, drawn for them.

Everything goes through :func:`badgehub.achievements.service.create_achievement`, so the demo follows the
real rules (roles, standing, alignments to the organisation's territories).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from badgehub.achievements.images import Design
from badgehub.achievements.models import Achievement, AchievementVersion
from badgehub.achievements.service import AchievementFields, create_achievement
from badgehub.competencies.models import Competency
from badgehub.extensions import db
from badgehub.organisations.models import Organisation


@dataclass(frozen=True)
class DemoAchievement:
    name: str
    description: str
    criteria_md: str
    codes: tuple[str, ...]
    design: Design
    achievement_type: str = "Badge"
    tags: tuple[str, ...] = ()
    valid_for_days: int | None = None
    evidence_expected: str = ""


def _design(shape: str, background: str, foreground: str, pictogram: str) -> Design:
    return Design(shape=shape, background=background, foreground=foreground, pictogram=pictogram, text="")


# By organisation slug (badgehub.demo.ORGANISATIONS); competency codes are those of badgehub.competencies.demo.
DEMO_ACHIEVEMENTS: dict[str, tuple[DemoAchievement, ...]] = {
    "atelier-velo-solidaire": (
        DemoAchievement(
            "Réparer une crevaison",
            "Sait réparer seul·e une chambre à air crevée et remonter sa roue.",
            "Pendant un atelier, et **sans aide** :\n\n- démonter la roue et sortir la chambre à air ;\n"
            "- trouver le trou (à l'oreille ou dans une bassine d'eau) et poser une rustine ;\n"
            "- remonter la roue et gonfler à la pression indiquée sur le pneu.\n\n"
            "Un·e bénévole de l'atelier vérifie que la roue tourne droit et que le pneu tient la pression.",
            ("TEC.1",), _design("circle", "#1d4ed8", "#ffffff", "gear"),
            tags=("vélo", "réparation", "autonomie"), evidence_expected="Une photo de la roue remontée."),
        DemoAchievement(
            "Régler ses freins et son dérailleur",
            "Sait régler des freins à patins et un dérailleur arrière pour rouler en sécurité.",
            "- Ajuster la tension des câbles de frein et centrer les patins ;\n"
            "- régler les butées et l'indexation du dérailleur arrière ;\n"
            "- expliquer à un·e bénévole comment vérifier ses freins avant de partir.",
            ("TEC.1",), _design("hexagon", "#7c2d12", "#ffffff", "star"), tags=("vélo", "sécurité")),
        DemoAchievement(
            "Mécanicien·ne bénévole",
            "A tenu des permanences de l'atelier et aidé d'autres habitant·es à réparer leur vélo.",
            "Avoir tenu au moins **six permanences** de l'atelier en une saison, en aidant les personnes "
            "à réparer **elles-mêmes** leur vélo plutôt qu'en réparant à leur place.",
            ("TEC.1", "COO.3", "CIT.4"), _design("shield", "#14532d", "#fef9c3", "hand"),
            achievement_type="CommunityService", tags=("bénévolat", "transmission"), valid_for_days=365,
            evidence_expected="La feuille de présence des permanences, signée par l'équipe."),
    ),
    "mediatheque-des-tilleuls": (
        DemoAchievement(
            "Atelier numérique : protéger ses données",
            "A suivi les ateliers « vie privée » de la médiathèque et sait protéger ses comptes en ligne.",
            "Avoir participé aux **deux séances** de l'atelier, puis, devant l'animateur·rice :\n\n"
            "1. créer un mot de passe solide et l'enregistrer dans un gestionnaire de mots de passe ;\n"
            "2. activer la double authentification sur sa messagerie ;\n"
            "3. repérer les indices d'un courriel d'hameçonnage parmi trois exemples.",
            ("NUM.3",), _design("rounded_square", "#0f766e", "#ffffff", "laptop"),
            achievement_type="Course", tags=("numérique", "vie privée")),
        DemoAchievement(
            "Démarches en ligne en autonomie",
            "Sait effectuer seul·e une démarche administrative en ligne.",
            "Réaliser de bout en bout une démarche réelle (caisse d'allocations, impôts, carte grise…) : "
            "se connecter, remplir le formulaire, joindre un justificatif numérisé et garder le récépissé.",
            ("NUM.1", "CIT.3"), _design("circle", "#1e3a8a", "#fde68a", "laptop"), tags=("numérique", "démarches")),
        DemoAchievement(
            "Animer une séance du club de lecture",
            "A préparé et animé une séance du club de lecture de la médiathèque.",
            "Choisir un livre avec le groupe, préparer trois questions pour lancer la discussion, animer la "
            "séance en donnant la parole à chacun·e et en faire un court compte rendu pour le blog.",
            ("COO.1",), _design("shield", "#581c87", "#ffffff", "book"), tags=("lecture", "animation")),
    ),
    "college-paul-eluard": (
        DemoAchievement(
            "Délégué·e de classe",
            "A représenté sa classe pendant une année scolaire.",
            "- Avoir été élu·e délégué·e et avoir siégé aux **trois conseils de classe** de l'année ;\n"
            "- avoir recueilli l'avis de la classe avant chaque conseil et en avoir rendu compte ;\n"
            "- avoir participé à la formation des délégués du collège.",
            ("CIT.1", "COO.1", "COO.2"), _design("shield", "#1d4ed8", "#ffffff", "speech"),
            achievement_type="CoCurricular", tags=("citoyenneté", "collège"), valid_for_days=365),
        DemoAchievement(
            "Tuteur·rice entre élèves",
            "A aidé régulièrement un·e autre élève dans ses apprentissages.",
            "Avoir accompagné un·e élève au moins **une heure par semaine pendant un trimestre**, avec un "
            "point d'étape mensuel avec le professeur principal.",
            ("COO.3",), _design("circle", "#be123c", "#ffffff", "heart"), tags=("entraide", "collège")),
    ),
    "menuiserie-durand": (
        DemoAchievement(
            "Initiation au travail du bois",
            "A découvert les gestes de base de la menuiserie en réalisant un petit ouvrage.",
            "Pendant un stage d'une semaine à l'atelier : mesurer et tracer, scier à la main, assembler à "
            "tenon et mortaise et poncer un petit tabouret, en respectant les consignes de sécurité.",
            ("TEC.3",), _design("hexagon", "#78350f", "#fef3c7", "leaf"), achievement_type="Course",
            tags=("menuiserie", "stage"), evidence_expected="Une photo du tabouret terminé."),
        DemoAchievement(
            "Sécurité à l'atelier : machines à bois",
            "Connaît et applique les règles de sécurité des machines de l'atelier.",
            "Réussir l'évaluation pratique : présenter les protections de la scie à format et de la "
            "dégauchisseuse, régler la machine hors tension, réaliser une coupe sous le regard du tuteur.",
            ("TEC.3",), _design("rounded_square", "#1f2937", "#fbbf24", "gear"), achievement_type="Assessment",
            tags=("sécurité", "menuiserie"), valid_for_days=730),
    ),
    "conseil-citoyen-aunettes": (
        DemoAchievement(
            "Participer à une assemblée citoyenne",
            "A pris part aux débats d'une assemblée citoyenne du quartier.",
            "Avoir assisté à une assemblée du conseil citoyen, y avoir **pris la parole** pour défendre un "
            "avis argumenté et avoir participé au vote des propositions.",
            ("CIT.1", "CIT.3"), _design("circle", "#9a3412", "#ffffff", "speech"), tags=("citoyenneté",)),
        DemoAchievement(
            "Porteur·se de projet de quartier",
            "A conduit un projet pour le quartier, de l'idée au bilan.",
            "Avoir présenté un projet au conseil citoyen, réuni une équipe, mené l'action (fête de quartier, "
            "jardin partagé, boîte à livres…) et présenté le bilan à l'assemblée.",
            ("CIT.2", "COO.1"), _design("shield", "#065f46", "#ffffff", "star"),
            tags=("citoyenneté", "projet")),
    ),
    "service-jeunesse": (
        DemoAchievement(
            "Chantier jeunes : embellir le quartier",
            "A participé à un chantier jeunes d'une semaine au service du quartier.",
            "Avoir participé aux **cinq jours** du chantier (peinture, plantations, nettoyage), respecté les "
            "horaires et les consignes, et présenté le résultat aux habitant·es lors de l'inauguration.",
            ("CIT.4", "ECO.2"), _design("hexagon", "#166534", "#ffffff", "leaf"),
            achievement_type="CommunityService", tags=("jeunesse", "engagement")),
        DemoAchievement(
            "Accueillir le public lors d'un événement",
            "A accueilli et orienté le public pendant un événement de la ville.",
            "Avoir tenu le point d'accueil d'un événement (forum des associations, fête de la ville…) pendant "
            "au moins une demi-journée : renseigner, orienter, signaler un problème à l'équipe.",
            ("COO.4",), _design("rounded_square", "#4338ca", "#ffffff", "hand"), tags=("jeunesse", "accueil")),
    ),
}


def _existing(organisation: Organisation) -> dict[str, Achievement]:
    achievements = db.session.scalars(
        select(Achievement).join(AchievementVersion, Achievement.current_version_id == AchievementVersion.id)
        .where(Achievement.organisation_id == organisation.id))
    # The join keeps only achievements that have a current version.
    return {achievement.current_version.name: achievement for achievement in achievements
            if achievement.current_version is not None}


def seed_demo_achievements(organisation: Organisation, issuer_user: Any,
                           competencies: Iterable[Competency] = ()) -> list[Achievement]:
    """Create the demo badges of ``organisation`` (by its slug; none for another slug) and return them.

    ``issuer_user`` must be an owner or issuer of the organisation. Each badge is aligned to the given
    ``competencies`` whose codes it names (none when no competency is given). Idempotent: a badge whose name
    already exists in the organisation is returned as it is. Flushes; the caller commits. Raises what
    :func:`~badgehub.achievements.service.create_achievement` raises.
    """
    by_code = {competency.code: competency for competency in competencies}
    existing = _existing(organisation)
    result: list[Achievement] = []
    for demo in DEMO_ACHIEVEMENTS.get(organisation.slug, ()):
        achievement = existing.get(demo.name)
        if achievement is None:
            fields = AchievementFields(
                name=demo.name, description=demo.description, criteria_md=demo.criteria_md,
                achievement_type=demo.achievement_type, tags=list(demo.tags), in_language="fr",
                valid_for_days=demo.valid_for_days, evidence_expected=demo.evidence_expected,
                competency_ids=[by_code[code].id for code in demo.codes if code in by_code])
            achievement = create_achievement(organisation, issuer_user, fields, demo.design)
        result.append(achievement)
    return result
