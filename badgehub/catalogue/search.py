"""The public catalogue of a territory: "where can I learn this here?"

What is listed: the current version of every non-archived achievement of the territory's **approved** member
organisations (a suspended, removed or pending member's badges are not offered here). Filters: competency
(with everything under it in the framework), domain (a top-level competency, with everything under it),
theme, sector, organisation, area (the organisation's area) and achievement type, plus a free-text search
over name, description, criteria and keywords that ignores case and accents.

Why the text search runs in Python: case- and accent-blind matching must behave the same on SQLite (whose
``lower()`` only knows ASCII) and PostgreSQL (``unaccent`` is an extension we cannot assume), and it must use
the one folding rule of the code base (``badgehub.territory.slugs.name_sort_key``). The catalogue is small —
its size is the number of badge *definitions* of one territory, not of credentials — so the database narrows
the candidates with indexed filters, and only their texts are read and folded. The catalogue never reads
issued credentials.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from sqlalchemy import Select, and_, case, exists, func, literal, select
from sqlalchemy.orm import selectinload

from badgehub.achievements.models import Achievement, AchievementCompetency, AchievementVersion
from badgehub.catalogue.models import CatalogueText, Theme, achievement_themes, searchable_text
from badgehub.catalogue.themes import themes_by_achievement, themes_of
from badgehub.competencies.models import Competency
from badgehub.competencies.service import TreeNode, competencies_of, flat_tree
from badgehub.extensions import db
from badgehub.organisations.models import Organisation, Sector
from badgehub.territory.models import Area, MembershipStatus, Territory, TerritoryMembership
from badgehub.territory.service import approved_members_by_sector
from badgehub.territory.slugs import name_sort_key

PER_PAGE: Final = 20
MAX_QUERY_LENGTH: Final = 200
MAX_PAGE: Final = 10_000


@dataclass(frozen=True)
class CatalogueQuery:
    """What a visitor asks for; every value as it came (codes and slugs), empty for "any"."""

    text: str = ""
    competency: str = ""
    domain: str = ""
    theme: str = ""
    sector: str = ""
    organisation: str = ""
    area: str = ""
    achievement_type: str = ""
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> CatalogueQuery:
        """Read a query string leniently: anything malformed becomes "any" (or page 1), never an error."""
        def text(name: str, limit: int = 200) -> str:
            value = args.get(name, "")
            return value.strip()[:limit] if isinstance(value, str) else ""

        raw_page = text("page", 8)
        # isascii(): str.isdigit() also accepts "²", which int() refuses.
        page = int(raw_page) if raw_page.isascii() and raw_page.isdigit() else 1
        return cls(text=text("q", MAX_QUERY_LENGTH), competency=text("competency"), domain=text("domain"),
                   theme=text("theme"), sector=text("sector"), organisation=text("organisation"),
                   area=text("area"), achievement_type=text("type"), page=min(max(page, 1), MAX_PAGE))

    def args(self, **changes: Any) -> dict[str, Any]:
        """The query as URL arguments (empty ones left out), with ``changes`` applied."""
        values = replace(self, **changes)
        pairs = {"q": values.text, "competency": values.competency, "domain": values.domain, "theme": values.theme,
                 "sector": values.sector, "organisation": values.organisation, "area": values.area,
                 "type": values.achievement_type, "page": values.page if values.page != 1 else ""}
        return {key: value for key, value in pairs.items() if value}

    @property
    def filtered(self) -> bool:
        return any((self.text, self.competency, self.domain, self.theme, self.sector, self.organisation, self.area,
                    self.achievement_type))


@dataclass(frozen=True)
class Facets:
    """The choices offered by the catalogue's filters, in display order."""

    domains: list[Competency]
    competencies: list[TreeNode]
    themes: list[Theme]
    sectors: list[Sector]
    organisations: list[Organisation]
    areas: list[Area]
    types: list[str]


@dataclass(frozen=True)
class Entry:
    """One badge of the catalogue, with what its card shows."""

    achievement: Achievement
    version: AchievementVersion
    organisation: Organisation
    competencies: list[Competency]
    themes: list[Theme]


@dataclass(frozen=True)
class CataloguePage:
    """One page of results; ``query`` is the cleaned query (unknown filter values dropped)."""

    entries: list[Entry]
    total: int
    page: int
    pages: int
    query: CatalogueQuery
    ignored: list[str] = field(default_factory=list)


def _offered(territory: Territory) -> Select[Any]:
    """Achievement ids (and current names) the catalogue may list: approved members' non-archived badges."""
    return (select(Achievement.id, AchievementVersion.name)
            .join(AchievementVersion, AchievementVersion.id == Achievement.current_version_id)
            .join(TerritoryMembership, and_(TerritoryMembership.organisation_id == Achievement.organisation_id,
                                            TerritoryMembership.territory_id == territory.id,
                                            TerritoryMembership.status == MembershipStatus.APPROVED))
            .where(Achievement.archived_at.is_(None)))


def catalogue_facets(territory: Territory) -> Facets:
    """The filter choices: the framework's domains and competencies, the territory's themes, the sectors and
    organisations of approved members, the territory's areas and the achievement types actually offered."""
    tree = flat_tree(territory)
    members = approved_members_by_sector(territory)
    organisations = sorted((o for _, group in members for o in group), key=lambda o: (name_sort_key(o.name), o.id))
    types = sorted(set(db.session.scalars(
        _offered(territory).with_only_columns(AchievementVersion.achievement_type).distinct())))
    return Facets(domains=[node.competency for node in tree if node.depth == 0], competencies=tree,
                  themes=themes_of(territory), sectors=[sector for sector, _ in members],
                  organisations=organisations, areas=list(territory.areas), types=types)


def _descendants(root: Competency, every: Iterable[Competency]) -> set[int]:
    children: dict[int, list[int]] = {}
    for competency in every:
        if competency.parent_id is not None:
            children.setdefault(competency.parent_id, []).append(competency.id)
    found, stack = {root.id}, [root.id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def fold(text: str) -> str:
    """Text as the search compares it: case and accents ignored."""
    return name_sort_key(text)


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _binary(column: Any) -> Any:
    """``column`` compared code point by code point, as Python and SQLite do (PostgreSQL's default collation
    would ignore spaces and punctuation and differ from one server to the next)."""
    return column.collate("C") if db.session.get_bind().dialect.name == "postgresql" else column


def _matching_in_python(statement: Select[Any], words: list[str]) -> list[int]:
    """The ids of the achievements ``statement`` selects whose text contains every word, by folded name."""
    rows = db.session.execute(
        select(Achievement.id, AchievementVersion.name, AchievementVersion.description,
               AchievementVersion.criteria_md, AchievementVersion.tags)
        .join(AchievementVersion, AchievementVersion.id == Achievement.current_version_id)
        .where(Achievement.id.in_(statement.with_only_columns(Achievement.id).scalar_subquery()))).all()
    kept = [(fold(row[1]), row[0]) for row in rows if all(word in searchable_text(*row[1:]) for word in words)]
    return [achievement_id for _, achievement_id in sorted(kept)]


def search_catalogue(territory: Territory, query: CatalogueQuery, *, facets: Facets | None = None,
                     per_page: int = PER_PAGE) -> CataloguePage:
    """One page of the territory's catalogue for ``query``, by badge name (case and accents ignored).

    Filter values that name nothing of this territory are dropped (their names are in ``ignored``) rather
    than refused: a stale link still shows the catalogue. A page past the end shows the last page.
    """
    facets = facets or catalogue_facets(territory)
    statement = _offered(territory)
    cleaned, ignored = query, list[str]()
    every = competencies_of(territory, include_archived=True)
    by_code = {competency.code: competency for competency in every}

    for name, value in (("competency", query.competency), ("domain", query.domain)):
        if not value:
            continue
        competency = by_code.get(value)
        if competency is None or (name == "domain" and competency.parent_id is not None):
            blank: dict[str, Any] = {name: ""}
            cleaned, ignored = replace(cleaned, **blank), [*ignored, name]
            continue
        statement = statement.where(exists().where(
            AchievementCompetency.achievement_version_id == AchievementVersion.id,
            AchievementCompetency.competency_id.in_(sorted(_descendants(competency, every)))))
    if query.theme:
        theme = next((t for t in facets.themes if t.code == query.theme), None)
        if theme is None:
            cleaned, ignored = replace(cleaned, theme=""), [*ignored, "theme"]
        else:
            statement = statement.where(exists().where(achievement_themes.c.achievement_id == Achievement.id,
                                                       achievement_themes.c.theme_id == theme.id))
    needs_organisation = False
    if query.sector:
        if query.sector not in {sector.value for sector in Sector}:
            cleaned, ignored = replace(cleaned, sector=""), [*ignored, "sector"]
        else:
            statement, needs_organisation = statement.where(Organisation.sector == Sector(query.sector)), True
    if query.organisation:
        organisation = next((o for o in facets.organisations if o.slug == query.organisation), None)
        if organisation is None:
            cleaned, ignored = replace(cleaned, organisation=""), [*ignored, "organisation"]
        else:
            statement = statement.where(Achievement.organisation_id == organisation.id)
    if query.area:
        area = next((a for a in facets.areas if a.code == query.area), None)
        if area is None:
            cleaned, ignored = replace(cleaned, area=""), [*ignored, "area"]
        else:
            statement, needs_organisation = statement.where(Organisation.area_id == area.id), True
    if query.achievement_type:
        statement = statement.where(AchievementVersion.achievement_type == query.achievement_type)
    if needs_organisation:
        statement = statement.join(Organisation, Organisation.id == Achievement.organisation_id)

    statement = statement.outerjoin(CatalogueText, CatalogueText.achievement_version_id == AchievementVersion.id)
    words = fold(query.text).split()
    matching = and_(*(CatalogueText.folded.like(_like(word), escape="\\") for word in words)) if words else None
    # One pass counts the candidates without a stored folded text, and the matching ones.
    counted = statement.add_columns(
        CatalogueText.achievement_version_id.label("indexed"),
        (case((matching, 1)) if matching is not None else literal(1)).label("matching")).subquery()
    unindexed, total = db.session.execute(select(
        func.count(case((counted.c.indexed.is_(None), 1))), func.count(counted.c.matching))
        .select_from(counted)).one()
    ordered: list[int] = []
    if unindexed:
        # Versions written by bulk SQL have no stored folded text: fold and sort here (slower, still right).
        ordered = _matching_in_python(statement, words)
        total = len(ordered)
    elif matching is not None:
        # The usual way: the folded texts are compared in SQL (LIKE on text already folded, so the same on both
        # databases), sorted by the folded name, and only one page of ids is read.
        statement = statement.where(matching)
    pages = max(1, math.ceil(total / per_page))
    page = min(query.page, pages)
    cleaned = replace(cleaned, page=page)
    if unindexed:
        page_ids = ordered[(page - 1) * per_page:page * per_page]
    else:
        page_ids = [row[0] for row in db.session.execute(
            statement.order_by(_binary(CatalogueText.name_key), Achievement.id)
            .limit(per_page).offset((page - 1) * per_page))]
    return CataloguePage(entries=_entries(page_ids), total=total, page=page, pages=pages, query=cleaned,
                         ignored=ignored)


def _entries(ids: list[int]) -> list[Entry]:
    """The cards of one page, in ``ids`` order, loaded with a fixed number of queries."""
    if not ids:
        return []
    achievements = {a.id: a for a in db.session.scalars(
        select(Achievement).where(Achievement.id.in_(ids)).options(
            selectinload(Achievement.organisation).selectinload(Organisation.area),
            selectinload(Achievement.current_version).selectinload(AchievementVersion.alignments)
            .selectinload(AchievementCompetency.competency)))}
    themes = themes_by_achievement(ids)
    entries = []
    for achievement_id in ids:
        achievement = achievements[achievement_id]
        version = achievement.current_version
        assert version is not None
        entries.append(Entry(achievement=achievement, version=version, organisation=achievement.organisation,
                             competencies=version.competencies, themes=themes[achievement_id]))
    return entries


def offered_count(territory: Territory) -> int:
    """How many badges the catalogue offers (for the territory's home page)."""
    return db.session.scalar(select(func.count()).select_from(_offered(territory).subquery())) or 0
