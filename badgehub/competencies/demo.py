"""The demo territory's competency framework: five domains a learning city recognises, in French.

ESCO references are the top-level groups of ESCO's skills hierarchy (``S1`` "communication, collaboration and
creativity", ``S5`` "working with computers", ``S7`` "constructing"), given only where the match is plain;
the other competencies have no ESCO reference rather than a doubtful one.
"""

from __future__ import annotations

from typing import Any

from badgehub.competencies.models import Competency
from badgehub.competencies.service import CompetencyFields, create_competency, framework_of, update_framework
from badgehub.territory.models import Territory

FRAMEWORK_NAME = "Référentiel des apprentissages du territoire"
FRAMEWORK_DESCRIPTION = ("Ce que les organisations du territoire reconnaissent : les compétences acquises en "
                         "participant à la vie de la cité, en apprenant ensemble, en agissant pour la planète.")

_ESCO = "http://data.europa.eu/esco/skill/"

# (code, parent code, name, description, ESCO URI); domains first so that parents exist when children come.
COMPETENCIES: tuple[tuple[str, str | None, str, str, str | None], ...] = (
    ("CIT", None, "Citoyenneté et vie de la cité",
     "Participer à la vie démocratique et associative du territoire.", None),
    ("NUM", None, "Culture numérique et médias",
     "Utiliser les outils numériques et comprendre l'information avec un regard critique.", _ESCO + "S5"),
    ("ECO", None, "Transition écologique",
     "Comprendre les enjeux environnementaux et agir au quotidien.", None),
    ("TEC", None, "Savoir-faire manuels et techniques",
     "Fabriquer, réparer, entretenir : apprendre par le geste.", _ESCO + "S7"),
    ("COO", None, "Travailler avec les autres",
     "Coopérer, communiquer, s'engager dans un collectif.", _ESCO + "S1"),
    ("CIT.1", "CIT", "Prendre la parole en réunion publique",
     "Exprimer un avis argumenté lors d'un conseil de quartier, d'une assemblée ou d'un débat.", None),
    ("CIT.2", "CIT", "Mener un projet citoyen",
     "Concevoir et conduire une action au service du quartier, de l'idée au bilan.", None),
    ("CIT.3", "CIT", "Connaître ses droits et les institutions",
     "Savoir à qui s'adresser et comment fonctionnent la commune et les services publics.", None),
    ("CIT.4", "CIT", "S'engager comme bénévole",
     "Donner de son temps de façon régulière dans une association du territoire.", None),
    ("NUM.1", "NUM", "Effectuer ses démarches en ligne",
     "Créer ses comptes, remplir un formulaire administratif, joindre un justificatif.", None),
    ("NUM.2", "NUM", "Vérifier une information",
     "Repérer la source d'une information, croiser les sources, reconnaître une infox.", None),
    ("NUM.3", "NUM", "Protéger ses données et sa vie privée",
     "Choisir des mots de passe sûrs, régler la confidentialité, reconnaître un hameçonnage.", None),
    ("NUM.4", "NUM", "Créer un contenu numérique",
     "Réaliser une affiche, une vidéo ou un podcast et le publier en respectant le droit d'auteur.", None),
    ("ECO.1", "ECO", "Réduire et trier ses déchets",
     "Appliquer les consignes de tri, composter, éviter le gaspillage alimentaire.", None),
    ("ECO.2", "ECO", "Jardiner au naturel",
     "Cultiver un potager partagé sans pesticides, préserver la biodiversité.", None),
    ("ECO.3", "ECO", "Économiser l'énergie et l'eau",
     "Repérer les consommations d'un logement et adopter les gestes qui les réduisent.", None),
    ("TEC.1", "TEC", "Réparer et entretenir un vélo",
     "Diagnostiquer une panne courante, régler les freins et le dérailleur, réparer une crevaison.", None),
    ("TEC.2", "TEC", "Utiliser les machines d'un fablab",
     "Préparer un fichier et utiliser une imprimante 3D ou une découpeuse laser en sécurité.", None),
    ("TEC.3", "TEC", "Travailler le bois",
     "Mesurer, scier, assembler et finir un petit ouvrage en respectant les règles de sécurité.", None),
    ("COO.1", "COO", "Animer un groupe",
     "Préparer et animer une réunion ou un atelier, distribuer la parole, faire la synthèse.", None),
    ("COO.2", "COO", "Gérer un désaccord",
     "Écouter les points de vue, reformuler, chercher une solution acceptable par tous.", None),
    ("COO.3", "COO", "Transmettre un savoir-faire",
     "Expliquer, montrer et accompagner quelqu'un qui apprend, à son rythme.", None),
    ("COO.4", "COO", "Accueillir et orienter le public",
     "Recevoir les personnes avec attention et les diriger vers le bon interlocuteur.", None),
)


def seed_demo_framework(territory: Territory, coordinator: Any) -> list[Competency]:
    """Give the demo territory its framework through the coordinators' services; return its competencies.

    Idempotent: competencies whose code already exists are left as they are. Flushes; the caller commits.
    Raises NotCoordinator when ``coordinator`` does not coordinate ``territory``.
    """
    framework = framework_of(territory)
    if framework is None or framework.name == territory.name:
        framework = update_framework(territory, coordinator, name=FRAMEWORK_NAME, description=FRAMEWORK_DESCRIPTION)
    existing = {competency.code: competency for competency in framework.competencies}
    result: list[Competency] = []
    for code, parent, name, description, esco in COMPETENCIES:
        competency = existing.get(code)
        if competency is None:
            competency = create_competency(territory, coordinator, code, CompetencyFields(
                name=name, description=description, parent_code=parent, esco_uri=esco))
        result.append(competency)
    return result
