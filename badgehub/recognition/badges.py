"""Badges made for recognition: marking a badge self-declared, and the peer-recognition badge in one click.

* **Self-declared.** A badge is self-declared when its current version's achievement type is
  :data:`~badgehub.credentials.values.SELF_DECLARED_TYPE` (``ext:SelfDeclared``, the extension OB 3.0 allows
  for ``achievementType``): the type travels inside every credential, so any reader can tell, and our verdicts
  say "declared, not assessed". Marking adds one sentence saying so at the top of the criteria, in the badge's
  language (the criteria narrative is what every OB 3.0 displayer shows); unmarking removes it and makes the
  badge an ordinary ``Badge`` again. A locked version is never changed: the achievements service makes a new one.
* **Peer recognition.** :func:`create_peer_badge` creates "Recognised by peers" for an organisation (a
  territory uses its issuer): an ``Award`` whose criteria and expected evidence ask for two peers' word, with
  the stable keyword :data:`PEER_TAG`. Asking again returns the badge already made.

The rules of who may change a badge are the achievements service's (owners and issuers).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from badgehub.achievements import images
from badgehub.achievements.models import Achievement
from badgehub.achievements.service import AchievementFields, active_badges, create_achievement, update_achievement
from badgehub.credentials.values import SELF_DECLARED_TYPE
from badgehub.organisations.models import Organisation

PEER_TAG: Final = "peer-recognition"
PEER_DESIGN: Final = images.Design(shape="circle", background="#0f766e", foreground="#ffffff", pictogram="hand",
                                   text="")

# Written into the badge itself, in the badge's language (not the reader's): one entry per language offered.
_SELF_DECLARED_SENTENCE: Final = {
    "en": "**Self-declared**: the holder declares this with evidence; {organisation} records it without "
          "assessing it.",
    "fr": "**Auto-déclaré** : la personne déclare cet acquis avec des preuves ; {organisation} l'enregistre "
          "sans l'évaluer.",
}
_PEER_TEXTS: Final = {
    "en": {
        "name": "Recognised by peers",
        "description": "Awarded to a person whose peers vouch for what they did for others: helping, passing on "
                       "a skill, taking part.",
        "criteria": "Ask for this badge with a few lines on what you did and the names of two people who saw it "
                    "(or links to what they wrote). {organisation} reads the request and awards the badge when "
                    "the peers' word is clear.",
        "evidence": "Two peers who saw what you did: their names and how to reach them, or links to their "
                    "testimonies.",
        "tags": "peers, community",
    },
    "fr": {
        "name": "Reconnu par ses pairs",
        "description": "Décerné à une personne dont les pairs témoignent de ce qu'elle a fait pour les autres : "
                       "aider, transmettre un savoir-faire, participer.",
        "criteria": "Demandez ce badge en décrivant en quelques lignes ce que vous avez fait et en nommant deux "
                    "personnes qui l'ont vu (ou en donnant des liens vers leurs témoignages). {organisation} lit "
                    "la demande et décerne le badge quand la parole des pairs est claire.",
        "evidence": "Deux pairs qui vous ont vu faire : leur nom et comment les joindre, ou des liens vers leurs "
                    "témoignages.",
        "tags": "pairs, communauté",
    },
}


def _language(code: str | None) -> str:
    base = (code or "").split("-")[0].lower()
    return base if base in _SELF_DECLARED_SENTENCE else "en"


def self_declared_sentence(language: str | None, organisation: str) -> str:
    """The sentence a self-declared badge's criteria start with, in ``language`` (English when not offered)."""
    return _SELF_DECLARED_SENTENCE[_language(language)].format(organisation=organisation)


def _without_sentence(criteria: str, organisation: str) -> str:
    for language in _SELF_DECLARED_SENTENCE:
        sentence = self_declared_sentence(language, organisation)
        if criteria.startswith(sentence):
            return criteria[len(sentence):].lstrip("\n")
    return criteria


def set_self_declared(achievement: Achievement, actor: Any, declared: bool) -> Achievement:
    """Mark ``achievement`` self-declared (or not) and return it. Raises what
    :func:`badgehub.achievements.service.update_achievement` raises (NotFound/Forbidden for a non-issuer,
    OrganisationSuspended, AchievementArchived)."""
    version = achievement.current_version
    assert version is not None
    organisation = achievement.organisation.name
    criteria = _without_sentence(version.criteria_md, organisation)
    if declared:
        criteria = f"{self_declared_sentence(version.in_language, organisation)}\n\n{criteria}".strip()
        kind = SELF_DECLARED_TYPE
    else:
        kind = version.achievement_type if version.achievement_type != SELF_DECLARED_TYPE else "Badge"
    update_achievement(achievement, actor, AchievementFields(
        name=version.name, description=version.description, criteria_md=criteria,
        criteria_url=version.criteria_url or "", achievement_type=kind, tags=list(version.tags),
        in_language=version.in_language, valid_for_days=version.valid_for_days,
        evidence_expected=version.evidence_expected,
        competency_ids=[competency.id for competency in version.competencies]))
    return achievement


def peer_badge_of(organisation: Organisation) -> Achievement | None:
    """The organisation's peer-recognition badge that is not archived, or None."""
    return peer_badge_among(active_badges(organisation))


def peer_badge_among(achievements: Sequence[Achievement]) -> Achievement | None:
    """The peer-recognition badge among ``achievements`` (an organisation's active badges, already read), or None."""
    return next((achievement for achievement in achievements
                 if achievement.current_version is not None and PEER_TAG in (achievement.current_version.tags or [])),
                None)


def create_peer_badge(organisation: Organisation, actor: Any, language: str | None) -> tuple[Achievement, bool]:
    """The organisation's "Recognised by peers" badge, created in ``language`` (French or English) unless it
    has one; returns it and whether it was made now. Raises what creating an achievement raises."""
    existing = peer_badge_of(organisation)
    if existing is not None:
        return existing, False
    texts = _PEER_TEXTS[_language(language)]
    fields = AchievementFields(
        name=texts["name"], description=texts["description"],
        criteria_md=texts["criteria"].format(organisation=organisation.name), achievement_type="Award",
        tags=f"{texts['tags']}, {PEER_TAG}", in_language=_language(language), evidence_expected=texts["evidence"])
    return create_achievement(organisation, actor, fields, PEER_DESIGN), True
