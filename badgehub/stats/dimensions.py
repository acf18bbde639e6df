"""Everything small the observatory's figures depend on besides the cells: the territory's members, themes and
their tags, competency framework, skills demand and areas, read on every request as plain values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import get_locale
from sqlalchemy import func, select

from badgehub.catalogue.demand import demand_by_competency
from badgehub.catalogue.models import achievement_themes
from badgehub.catalogue.themes import theme_name, themes_of
from badgehub.competencies.models import Competency, CompetencyFramework
from badgehub.extensions import db
from badgehub.organisations.models import Organisation, OrganisationType, Sector
from badgehub.stats.models import StatsOrganisation, StatsRecognitionUnit
from badgehub.territory.models import Area, MembershipStatus, Territory, TerritoryMembership


@dataclass(frozen=True)
class Member:
    id: int
    slug: str
    name: str
    sector: Sector
    type: OrganisationType
    area_id: int | None
    record_key: int = 0  # for the cell key of the count of organisations that issued (0: never issued)


@dataclass(frozen=True)
class FrameworkCompetency:
    id: int
    code: str
    name: str
    parent_id: int | None


@dataclass(frozen=True)
class Dimensions:
    """Everything small the figures depend on besides the cells, as plain values.

    It is read on every request (a few small queries) and is part of the key of the cached figures together
    with the organisations' revisions, so a cached result is used only when nothing it was computed from has
    changed: the cache is exact."""

    database: str
    locale: str
    territory_id: int
    slug: str
    name: str
    organisations: tuple[Member, ...]
    revisions: tuple[tuple[int, int, Any], ...]
    themes: tuple[tuple[int, str, str], ...]  # id, code, name as shown
    tags: tuple[tuple[int, int], ...]  # achievement id, theme id
    competencies: tuple[FrameworkCompetency, ...]
    demand: tuple[tuple[int, int], ...]  # competency id, organisations declaring it
    areas: tuple[tuple[int, str, str], ...]  # id, code, name
    # Units of recognition of the territory itself (what it endorsed, its pathways completed): the only ones no
    # organisation's revision follows. Never moved nor taken away, so their number tells every change.
    own_recognition: int = 0


def read_dimensions(territory: Territory) -> Dimensions:
    members = db.session.execute(
        select(Organisation.id, Organisation.slug, Organisation.name, Organisation.sector, Organisation.type,
               Organisation.area_id, StatsOrganisation.revision, StatsOrganisation.updated_at,
               StatsOrganisation.record_key)
        .join(TerritoryMembership, TerritoryMembership.organisation_id == Organisation.id)
        .outerjoin(StatsOrganisation, StatsOrganisation.organisation_id == Organisation.id)
        .where(TerritoryMembership.territory_id == territory.id,
               TerritoryMembership.status == MembershipStatus.APPROVED)
        .order_by(Organisation.id)).tuples().all()
    theme_list = themes_of(territory)
    tags = db.session.execute(
        select(achievement_themes.c.achievement_id, achievement_themes.c.theme_id)
        .where(achievement_themes.c.theme_id.in_([t.id for t in theme_list] or [0]))
        .order_by(achievement_themes.c.achievement_id, achievement_themes.c.theme_id)).tuples().all()
    competencies = db.session.execute(
        select(Competency.id, Competency.code, Competency.name, Competency.parent_id)
        .join(CompetencyFramework, CompetencyFramework.id == Competency.framework_id)
        .where(CompetencyFramework.territory_id == territory.id).order_by(Competency.id)).tuples().all()
    areas = db.session.execute(select(Area.id, Area.code, Area.name).where(Area.territory_id == territory.id)
                               .order_by(Area.id)).tuples().all()
    return Dimensions(
        database=str(db.session.get_bind().engine.url), locale=str(get_locale() or ""),
        territory_id=territory.id, slug=territory.slug, name=territory.name,
        organisations=tuple(Member(row[0], row[1], row[2], Sector(row[3]), OrganisationType(row[4]), row[5],
                                   row[8] or 0) for row in members),
        revisions=tuple((row[0], row[6] or 0, row[7]) for row in members),
        themes=tuple((t.id, t.code, theme_name(t)) for t in theme_list), tags=tuple(tags),
        competencies=tuple(FrameworkCompetency(*row) for row in competencies),
        demand=tuple((item.competency.id, item.organisations) for item in demand_by_competency(territory)),
        areas=tuple(areas), own_recognition=int(db.session.scalar(
            select(func.count()).where(StatsRecognitionUnit.territory_id == territory.id)) or 0))


def domain_of(competencies: dict[int, FrameworkCompetency]) -> dict[int, FrameworkCompetency]:
    """Each competency's domain: its top-level ancestor in the framework."""
    domains: dict[int, FrameworkCompetency] = {}
    for competency in competencies.values():
        node, seen = competency, set()
        while node.parent_id is not None and node.parent_id in competencies and node.id not in seen:
            seen.add(node.id)
            node = competencies[node.parent_id]
        domains[competency.id] = node
    return domains
