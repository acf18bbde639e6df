"""Competency frameworks: reading, curating, searching; the public URL and OB 3.0 alignment of a competency.

Rules (written here and nowhere else):

* **Coordinators curate.** Only a coordinator of the territory, or a platform admin, creates, edits,
  archives, restores or imports competencies (``territory.service.require_coordinator``).
* **Codes are forever.** A competency's URL ``<BASE_URL>/competencies/<territory slug>/<code>`` is written
  into signed credentials as an alignment's ``targetUrl``: the code never changes and a competency is
  archived, never deleted; an archived competency still answers at its URL.
* Every change is an audit event. Services flush; the caller commits.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from badgehub.competencies.models import Competency, CompetencyFramework
from badgehub.credentials.documents import Alignment
from badgehub.errors import NotFound
from badgehub.extensions import db
from badgehub.territory.models import Territory
from badgehub.territory.service import get_territory_by_slug


def _base_url() -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/")


def framework_url(territory: Territory) -> str:
    """The absolute public URL of the territory's framework: ``<BASE_URL>/competencies/<slug>``."""
    return f"{_base_url()}/competencies/{territory.slug}"


def competency_url(competency: Competency) -> str:
    """The absolute public URL of a competency, ``<BASE_URL>/competencies/<territory slug>/<code>``.

    It is the ``targetUrl`` of alignments in signed credentials, so it is built from ``BASE_URL`` (never from
    a request) and depends only on the territory's slug and the competency's code.
    """
    return f"{framework_url(competency.framework.territory)}/{competency.code}"


def alignment_for(competency: Competency) -> Alignment:
    """The OB 3.0 ``Alignment`` pointing at ``competency`` (``targetType`` ``ceasn:Competency``)."""
    return Alignment(target_name=competency.name, target_url=competency_url(competency),
                     target_code=competency.code, target_framework=competency.framework.name,
                     target_type="ceasn:Competency", target_description=competency.description or None)


def framework_of(territory: Territory) -> CompetencyFramework | None:
    """The territory's framework, or None when nobody has curated one yet."""
    return db.session.scalar(select(CompetencyFramework).where(CompetencyFramework.territory_id == territory.id))


def get_competency_in(territory: Territory, code: str) -> Competency:
    """The competency ``code`` of the territory's framework, archived or not; raises NotFound."""
    competency = db.session.scalar(
        select(Competency).join(CompetencyFramework, Competency.framework_id == CompetencyFramework.id)
        .where(CompetencyFramework.territory_id == territory.id, Competency.code == code))
    if competency is None:
        raise NotFound()
    return competency


def get_competency(territory_slug: str, code: str) -> Competency:
    """The competency ``code`` of the territory ``territory_slug``, archived or not; raises NotFound."""
    return get_competency_in(get_territory_by_slug(territory_slug), code)


def competencies_of(territory: Territory, *, include_archived: bool = False) -> list[Competency]:
    """The territory's competencies in tree order (each domain followed by what is under it)."""
    query = select(Competency).join(CompetencyFramework, Competency.framework_id == CompetencyFramework.id).where(
        CompetencyFramework.territory_id == territory.id)
    if not include_archived:
        query = query.where(Competency.archived_at.is_(None))
    return sorted(db.session.scalars(query), key=lambda c: c.code)


def search_competencies(territory: Territory, query: str, *, include_archived: bool = False) -> list[Competency]:
    """The territory's competencies whose code, name or description contain every word of ``query``."""
    words = query.lower().split()
    return [c for c in competencies_of(territory, include_archived=include_archived)
            if all(w in f"{c.code} {c.name} {c.description}".lower() for w in words)]
