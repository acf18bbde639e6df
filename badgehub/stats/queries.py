"""The observatory's figures for one territory, exact, read from the pre-aggregates (read only).

**Which credentials count** (written here and nowhere else): the live (not revoked) credentials issued by
the organisations that are *approved members of the territory now*, whatever the area recorded on them and
whenever they were issued. The observatory shows the learning certified by the territory's current registry
of trusted issuers: removing or suspending an organisation takes its figures out, approving one brings its
history in (the same rule as the catalogue and the skills demand). Revoked credentials count nowhere; expired
ones still count (the learning happened). The period filters the month of issue (UTC).

**Area** of a credential: the area recorded on it when that is an area of this territory, else the area of
its organisation when that is one, else "not specified".

**Formal education** is the organisation types :data:`FORMAL_TYPES` (schools, universities, training centres);
every other type is non-formal or informal learning.

Every figure is a number of credentials; each group also knows whether it counts at least
:data:`~badgehub.stats.privacy.THRESHOLD` distinct learners (by ``recipient_email_key``), which the privacy
rules need. That is decided from the cells' learner counts when they suffice (the largest cell of a group is a
lower bound, the sum an upper bound) and otherwise by an exact count on ``issued_credentials``. Exact live
counts are cached per process, keyed by the revisions of the organisations counted (see
:class:`~badgehub.stats.models.StatsOrganisation`), so a cached figure is never stale.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from cachetools import LRUCache
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from pyroaring import BitMap
from sqlalchemy import and_, func, or_, select

from badgehub.achievements.models import AchievementCompetency, AchievementVersion
from badgehub.competencies.models import Competency, CompetencyFramework
from badgehub.extensions import db
from badgehub.issuing.models import IssuedCredential
from badgehub.organisations.models import Organisation, OrganisationType, Sector
from badgehub.stats.errors import InvalidFilters
from badgehub.stats.models import StatsAreaCell, StatsCell, StatsLearner, StatsLearnerSet, StatsOrganisation
from badgehub.stats.service import key_hash, learner_key, month_bounds
from badgehub.territory.demand import demand_by_competency
from badgehub.territory.models import Area, MembershipStatus, Territory, TerritoryMembership, achievement_themes
from badgehub.territory.slugs import name_sort_key
from badgehub.territory.themes import theme_name, themes_of

THRESHOLD: Final = 5  # the privacy threshold, also in badgehub.stats.privacy (which imports it from here)
ORGANISATION_THRESHOLD: Final = 3  # fewer contributing organisations: no public figure (business statistics)
FORMAL_TYPES: Final = frozenset({OrganisationType.SCHOOL, OrganisationType.UNIVERSITY,
                                 OrganisationType.TRAINING_CENTRE})
NO_AREA: Final = "none"
PERIOD_RE: Final = re.compile(r"(\d{4})(?:-(?:(\d{2})|[Qq]([1-4])))?")


def is_formal(org_type: OrganisationType | str) -> bool:
    """True for formal education (schools, universities, training centres); the one place that says so."""
    return OrganisationType(org_type) in FORMAL_TYPES


# ----------------------------------------------------------------------------------------------- filters


@dataclass(frozen=True)
class Filters:
    """What a visitor selects: a period (whole months ``yyyymm``, both ends included), a sector, a theme.

    Periods are a fixed geography: a whole month, quarter or year (``period``: ``2025-03``, ``2025-Q1``,
    ``2025``), or all the time there is (``period`` empty). Free windows are not offered: each of them would be
    one more figure to subtract from another."""

    start: int | None = None
    end: int | None = None
    sector: str = ""
    theme: str = ""
    period: str = ""

    def args(self) -> dict[str, str]:
        """The filters as URL arguments (empty ones left out)."""
        pairs = {"period": self.period, "sector": self.sector, "theme": self.theme}
        return {key: value for key, value in pairs.items() if value}


def format_month(month: int) -> str:
    """``202403`` → ``"2024-03"``."""
    return f"{month // 100:04d}-{month % 100:02d}"


def period_months(period: str) -> tuple[int, int, str]:
    """The first and last months of a period (``2025``, ``2025-Q2``, ``2025-03``) and its canonical spelling.
    Raises ValueError when it is none of these."""
    match = PERIOD_RE.fullmatch(period.strip())
    if match is None or not 1900 <= int(match.group(1)) <= 2999:
        raise ValueError(period)
    year = int(match.group(1)) * 100
    if match.group(2):
        month = int(match.group(2))
        if not 1 <= month <= 12:
            raise ValueError(period)
        return year + month, year + month, format_month(year + month)
    if match.group(3):
        quarter = int(match.group(3))
        return year + 3 * quarter - 2, year + 3 * quarter, f"{year // 100}-Q{quarter}"
    return year + 1, year + 12, str(year // 100)


def periods_between(first: int, last: int) -> dict[str, list[str]]:
    """The periods on offer for data from month ``first`` to month ``last`` (``yyyymm``), latest first: whole
    years, quarters and months, as ``period`` values."""
    years = list(range(last // 100, first // 100 - 1, -1))
    months = [month for year in years for month in range(year * 100 + 12, year * 100, -1) if first <= month <= last]
    quarters = [f"{month // 100}-Q{(month % 100 + 2) // 3}" for month in months]
    return {"years": [str(year) for year in years], "quarters": list(dict.fromkeys(quarters)),
            "months": [format_month(month) for month in months]}


def parse_filters(args: Mapping[str, Any], territory: Territory) -> Filters:
    """Read the filters from a query string. Raises :class:`InvalidFilters` whose ``details["fields"]`` says
    which one is wrong (``period``, ``sector``, ``theme``)."""
    def text(name: str) -> str:
        value = args.get(name, "")
        return value.strip()[:100] if isinstance(value, str) else ""

    errors: dict[str, Any] = {}
    start = end = None
    period = text("period")
    if text("from") or text("to"):
        errors["period"] = _l("Free periods are not offered: choose a whole month, quarter or year (2025-03, "
                              "2025-Q1 or 2025).")
    elif period:
        try:
            start, end, period = period_months(period)
        except ValueError:
            errors["period"] = _l("Give a month, a quarter or a year: 2025-03, 2025-Q1 or 2025.")
    sector = text("sector")
    if sector and sector not in {s.value for s in Sector}:
        errors["sector"] = _l("Choose one of the values offered.")
    theme = text("theme")
    if theme and theme not in {t.code for t in themes_of(territory)}:
        errors["theme"] = _l("Choose one of the values offered.")
    if errors:
        raise InvalidFilters(details={"fields": errors})
    return Filters(start, end, sector, theme, period if start is not None else "")


# ----------------------------------------------------------------------------------------------- figures


@dataclass
class Group:
    """One line of a table: a number of credentials, and what is known of its distinct learners."""

    key: str
    label: str
    credentials: int = 0
    learners_low: int = 0  # the largest cell's learners: the group has at least this many
    learners_high: int = 0  # the sum of its cells' learners: it has at most this many
    enough_learners: bool = False  # at least THRESHOLD distinct learners (decided exactly)
    extra: dict[str, Any] = field(default_factory=dict)
    key_sum: int = 0  # the cell key: the sum of its credentials' record keys (modulo KEY_RANGE when used)
    organisations: set[int] = field(default_factory=set)  # the organisations that contribute to it

    def add(self, credentials: int, low: int, high: int, key_sum: int = 0,
            organisations: Iterable[int] = ()) -> None:
        self.credentials += credentials
        self.learners_low = max(self.learners_low, low)
        self.learners_high += high
        self.key_sum += key_sum
        self.organisations.update(organisations)


@dataclass
class Table:
    """One breakdown: a dataset name (stable, the open-data file name) and its groups in display order.

    ``partition``: every credential is in exactly one group (a total means something); otherwise a credential
    counts in each group it belongs to (a badge aligned to two competencies counts for both)."""

    name: str
    groups: list[Group]
    partition: bool


@dataclass
class Summary:
    """The headline figures of a selection (exact), with the cell keys of the counts (sums of the record keys
    of the credentials, of the learners) for the cell-key method."""

    credentials: int
    learners: int
    learners_several_organisations: int
    learners_several_sectors: int
    organisations: int
    keys: dict[str, int] = field(default_factory=dict)


@dataclass
class Figures:
    """Everything the observatory shows for one territory and one selection, exact (privacy comes after)."""

    territory_slug: str
    territory_name: str
    filters: Filters
    months: tuple[int, int] | None  # first and last month with credentials in the selection
    summary: Summary
    tables: dict[str, Table]
    generated_at: dt.datetime | None
    span: tuple[int, int] | None = None  # first and last month with credentials of any member, whatever the filters


@dataclass(frozen=True)
class _Scope:
    """What a live count looks at: credentials of these organisations, versions, months and areas."""

    organisations: frozenset[int]
    start: int | None
    end: int | None
    versions: frozenset[int] | None = None
    areas: frozenset[int] | None = None  # credentials recorded in these areas …
    area_fallback: frozenset[int] | None = None  # … or without one of the territory's areas, from these orgs
    territory_areas: frozenset[int] = frozenset()


_CACHE: LRUCache[tuple[Any, ...], tuple[int, ...]] = LRUCache(maxsize=4096)
_CACHE_LOCK = threading.Lock()


def _where(scope: _Scope) -> list[Any]:
    conditions: list[Any] = [IssuedCredential.revoked_at.is_(None),
                             IssuedCredential.organisation_id.in_(sorted(scope.organisations))]
    if scope.start is not None:
        conditions.append(IssuedCredential.issued_at >= month_bounds(scope.start)[0])
    if scope.end is not None:
        conditions.append(IssuedCredential.issued_at < month_bounds(scope.end)[1])
    if scope.versions is not None:
        conditions.append(IssuedCredential.achievement_version_id.in_(sorted(scope.versions)))
    if scope.areas is not None:
        outside = or_(IssuedCredential.area_id.is_(None),
                      IssuedCredential.area_id.not_in(sorted(scope.territory_areas) or [0]))
        alternatives: list[Any] = [IssuedCredential.area_id.in_(sorted(scope.areas) or [0])]
        if scope.area_fallback:
            alternatives.append(and_(outside, IssuedCredential.organisation_id.in_(sorted(scope.area_fallback))))
        conditions.append(or_(*alternatives))
    return conditions


class _Counter:
    """Exact counts of distinct learners: unions of the learner sets of organisations and months when the
    question is about whole organisations (no theme, no area), else live counts on ``issued_credentials``
    cached by the revisions of the organisations they look at."""

    def __init__(self, revisions: Mapping[int, tuple[int, Any]], sets: Mapping[tuple[int, int], BitMap] | None,
                 sectors: Mapping[int, Sector]) -> None:
        self.revisions = revisions
        self.database = str(db.session.get_bind().engine.url)
        self.sets = sets
        self.sectors = sectors

    def _by_organisation(self, scope: _Scope) -> dict[int, BitMap] | None:
        if self.sets is None or scope.versions is not None or scope.areas is not None:
            return None
        found: dict[int, list[BitMap]] = defaultdict(list)
        for (organisation_id, month), learners in self.sets.items():
            if (organisation_id in scope.organisations and (scope.start is None or month >= scope.start)
                    and (scope.end is None or month <= scope.end)):
                found[organisation_id].append(learners)
        return {organisation_id: BitMap.union(*sets) for organisation_id, sets in found.items()}

    def _cached(self, kind: str, scope: _Scope, compute: Any) -> tuple[int, ...]:
        key = (self.database, kind, scope,
               tuple((org, self.revisions.get(org)) for org in sorted(scope.organisations)))
        with _CACHE_LOCK:
            found = _CACHE.get(key)
        if found is not None:
            return found
        value: tuple[int, ...] = compute()
        with _CACHE_LOCK:
            _CACHE[key] = value
        return value

    def learners(self, scope: _Scope) -> int:
        if not scope.organisations:
            return 0
        organisations = self._by_organisation(scope)
        if organisations is not None:
            return len(BitMap.union(*organisations.values())) if organisations else 0
        return self._cached("learners", scope, lambda: (int(db.session.scalar(
            select(func.count(func.distinct(learner_key()))).where(*_where(scope))) or 0),))[0]

    def summary(self, scope: _Scope) -> tuple[int, ...]:
        """Distinct learners; those holding credentials of two organisations or more; of two sectors or more;
        then the cell keys of these three counts (sums of the learners' record keys)."""
        if not scope.organisations:
            return 0, 0, 0, 0, 0, 0
        organisations = self._by_organisation(scope)
        if organisations is not None:
            by_sector: dict[Sector, list[BitMap]] = defaultdict(list)
            for organisation_id, learners in organisations.items():
                by_sector[self.sectors[organisation_id]].append(learners)
            everyone, several_organisations = _several(organisations.values())
            _, several_sectors = _several(BitMap.union(*sets) for sets in by_sector.values())
            keys = learner_record_keys()
            return (len(everyone), len(several_organisations), len(several_sectors),
                    *(sum(keys[i] for i in group if i < len(keys))
                      for group in (everyone, several_organisations, several_sectors)))

        def compute() -> tuple[int, ...]:
            found: dict[str, tuple[set[int], set[str]]] = defaultdict(lambda: (set(), set()))
            for organisation_id, sector, learner in db.session.execute(
                    select(IssuedCredential.organisation_id, Organisation.sector, learner_key()).distinct()
                    .join(Organisation, Organisation.id == IssuedCredential.organisation_id)
                    .where(*_where(scope))).tuples():
                found[learner][0].add(organisation_id)
                found[learner][1].add(str(sector))
            keys = _record_keys_of(found)
            several_organisations = [k for k, (orgs, _) in found.items() if len(orgs) >= 2]
            several_sectors = [k for k, (_, sectors) in found.items() if len(sectors) >= 2]
            return (len(found), len(several_organisations), len(several_sectors),
                    *(sum(keys.get(k, 0) for k in group) for group in (found, several_organisations, several_sectors)))

        return self._cached("summary", scope, compute)


_LEARNER_KEYS: list[int] = []  # record keys of the statistics' learners, by id (they never change)


def learner_record_keys() -> list[int]:
    """The learners' record keys indexed by learner id, read once per process and completed with the learners
    counted since (a learner's record key never changes, so the list is never stale)."""
    with _CACHE_LOCK:
        known = len(_LEARNER_KEYS)
    rows = db.session.execute(select(StatsLearner.id, StatsLearner.record_key)
                              .where(StatsLearner.id >= known).order_by(StatsLearner.id)).tuples().all()
    with _CACHE_LOCK:
        for identifier, record_key in rows:
            if identifier >= len(_LEARNER_KEYS):
                _LEARNER_KEYS.extend([0] * (identifier + 1 - len(_LEARNER_KEYS)))
            _LEARNER_KEYS[identifier] = record_key
        return _LEARNER_KEYS


def _record_keys_of(learners: Iterable[str]) -> dict[str, int]:
    """The record keys of learners given by their statistics key (read only: a learner not counted yet adds 0)."""
    digests = {learner: key_hash(learner) for learner in learners}
    by_digest: dict[str, int] = {}
    wanted = sorted(set(digests.values()))
    for start in range(0, len(wanted), 5_000):
        by_digest.update(db.session.execute(select(StatsLearner.key_hash, StatsLearner.record_key)
                                            .where(StatsLearner.key_hash.in_(wanted[start:start + 5_000])))
                         .tuples().all())
    return {learner: by_digest.get(digest, 0) for learner, digest in digests.items()}


def _several(groups: Iterable[BitMap]) -> tuple[BitMap, BitMap]:
    """Everyone in the groups, and those in two groups or more."""
    seen, several = BitMap(), BitMap()
    for group in groups:
        several |= seen & group
        seen |= group
    return seen, several


def clear_cache() -> None:
    """Forget every cached live count and figure (tests and the bench; never needed for correctness)."""
    with _CACHE_LOCK:
        _CACHE.clear()
        _FIGURES.clear()
        _LEARNER_KEYS.clear()


@dataclass(frozen=True)
class _Org:
    id: int
    slug: str
    name: str
    sector: Sector
    type: OrganisationType
    area_id: int | None


@dataclass(frozen=True)
class _Competency:
    id: int
    code: str
    name: str
    parent_id: int | None


@dataclass(frozen=True)
class _Dimensions:
    """Everything small the figures depend on besides the cells, as plain values.

    It is read on every request (a few small queries) and is part of the key of the cached figures together
    with the organisations' revisions, so a cached result is used only when nothing it was computed from has
    changed: the cache is exact."""

    database: str
    locale: str
    territory_id: int
    slug: str
    name: str
    organisations: tuple[_Org, ...]
    revisions: tuple[tuple[int, int, Any], ...]
    themes: tuple[tuple[int, str, str], ...]  # id, code, name as shown
    tags: tuple[tuple[int, int], ...]  # achievement id, theme id
    competencies: tuple[_Competency, ...]
    demand: tuple[tuple[int, int], ...]  # competency id, organisations declaring it
    areas: tuple[tuple[int, str, str], ...]  # id, code, name


_FIGURES: LRUCache[tuple[Any, ...], Figures] = LRUCache(maxsize=256)


def _dimensions(territory: Territory) -> _Dimensions:
    members = db.session.execute(
        select(Organisation.id, Organisation.slug, Organisation.name, Organisation.sector, Organisation.type,
               Organisation.area_id, StatsOrganisation.revision, StatsOrganisation.updated_at)
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
    return _Dimensions(
        database=str(db.session.get_bind().engine.url), locale=str(get_locale() or ""),
        territory_id=territory.id, slug=territory.slug, name=territory.name,
        organisations=tuple(_Org(row[0], row[1], row[2], Sector(row[3]), OrganisationType(row[4]), row[5])
                            for row in members),
        revisions=tuple((row[0], row[6] or 0, row[7]) for row in members),
        themes=tuple((t.id, t.code, theme_name(t)) for t in theme_list), tags=tuple(tags),
        competencies=tuple(_Competency(*row) for row in competencies),
        demand=tuple((item.competency.id, item.organisations) for item in demand_by_competency(territory)),
        areas=tuple(areas))


def _domain_of(competencies: dict[int, _Competency]) -> dict[int, _Competency]:
    """Each competency's domain: its top-level ancestor in the framework."""
    domains: dict[int, _Competency] = {}
    for competency in competencies.values():
        node, seen = competency, set()
        while node.parent_id is not None and node.parent_id in competencies and node.id not in seen:
            seen.add(node.id)
            node = competencies[node.parent_id]
        domains[competency.id] = node
    return domains


def observatory(territory: Territory, filters: Filters | None = None, *, detail: bool = False) -> Figures:
    """The exact figures of ``territory`` for ``filters`` (see the module docstring for what counts).

    ``detail`` adds the per-organisation table (coordinators only: the caller checks). Read only. The result
    is cached per process, keyed by everything it is computed from (see :class:`_Dimensions`)."""
    chosen = filters or Filters()
    dimensions = _dimensions(territory)
    key = (dimensions, chosen, detail)
    with _CACHE_LOCK:
        found = _FIGURES.get(key)
    if found is not None:
        return found
    figures = _compute(dimensions, chosen, detail)
    with _CACHE_LOCK:
        _FIGURES[key] = figures
    return figures


def _compute(dimensions: _Dimensions, chosen: Filters, detail: bool) -> Figures:
    organisations = {o.id: o for o in dimensions.organisations if not chosen.sector or o.sector == chosen.sector}
    org_ids = frozenset(organisations)
    themes = {theme_id: (code, name) for theme_id, code, name in dimensions.themes}
    themes_by_achievement: dict[int, list[int]] = defaultdict(list)
    for achievement_id, theme_id in dimensions.tags:
        themes_by_achievement[achievement_id].append(theme_id)
    theme_filter = next((theme_id for theme_id, code, _ in dimensions.themes if code == chosen.theme), None)

    def cell_query(model: Any, *columns: Any) -> Any:
        query = select(*columns).where(model.organisation_id.in_(sorted(org_ids) or [0]), model.credentials > 0)
        if chosen.start is not None:
            query = query.where(model.month >= chosen.start)
        if chosen.end is not None:
            query = query.where(model.month <= chosen.end)
        if theme_filter is not None:
            tagged = sorted({a for a, t in dimensions.tags if t == theme_filter}) or [0]
            query = query.where(model.achievement_version_id.in_(
                select(AchievementVersion.id).where(AchievementVersion.achievement_id.in_(tagged))))
        return query

    sums = (func.sum(StatsCell.credentials), func.max(StatsCell.learners), func.sum(StatsCell.learners),
            func.sum(StatsCell.key_sum))
    by_month_orgs = db.session.execute(cell_query(StatsCell, StatsCell.month, StatsCell.organisation_id, *sums)
                                       .group_by(StatsCell.month, StatsCell.organisation_id)
                                       .order_by(StatsCell.month)).tuples().all()
    version_sums = db.session.execute(cell_query(
        StatsCell, StatsCell.organisation_id, StatsCell.achievement_version_id, *sums)
        .group_by(StatsCell.organisation_id, StatsCell.achievement_version_id)).tuples().all()
    achievement_of = dict(db.session.execute(
        select(AchievementVersion.id, AchievementVersion.achievement_id)
        .where(AchievementVersion.id.in_(sorted({row[1] for row in version_sums}) or [0]))).tuples().all())
    by_version = [(org, version, achievement_of[version], *rest) for org, version, *rest in version_sums]
    area_sums = (func.sum(StatsAreaCell.credentials), func.max(StatsAreaCell.learners),
                 func.sum(StatsAreaCell.learners), func.sum(StatsAreaCell.key_sum))
    by_area = db.session.execute(cell_query(
        StatsAreaCell, StatsAreaCell.organisation_id, StatsAreaCell.area_id, *area_sums)
        .group_by(StatsAreaCell.organisation_id, StatsAreaCell.area_id)).tuples().all()
    versions_in = {row[1] for row in by_version}

    # Versions' competencies, restricted to the territory's own framework.
    framework_competencies = {c.id: c for c in dimensions.competencies}
    aligned: dict[int, list[int]] = defaultdict(list)
    if versions_in:
        for version_id, competency_id in db.session.execute(
                select(AchievementCompetency.achievement_version_id, AchievementCompetency.competency_id)
                .where(AchievementCompetency.achievement_version_id.in_(sorted(versions_in)))).tuples():
            if competency_id in framework_competencies:
                aligned[version_id].append(competency_id)
    domains = _domain_of(framework_competencies)

    revisions = {org: (revision, updated) for org, revision, updated in dimensions.revisions if org in org_ids}
    sets = None
    if theme_filter is None:
        query = select(StatsLearnerSet.organisation_id, StatsLearnerSet.month, StatsLearnerSet.learner_ids).where(
            StatsLearnerSet.organisation_id.in_(sorted(org_ids) or [0]))
        if chosen.start is not None:
            query = query.where(StatsLearnerSet.month >= chosen.start)
        if chosen.end is not None:
            query = query.where(StatsLearnerSet.month <= chosen.end)
        sets = {(organisation_id, month): BitMap.deserialize(blob)
                for organisation_id, month, blob in db.session.execute(query).tuples()}
    counter = _Counter(revisions, sets, {o.id: o.sector for o in organisations.values()})
    base = _Scope(org_ids, chosen.start, chosen.end)
    if theme_filter is not None:
        base = _Scope(org_ids, chosen.start, chosen.end, versions=frozenset(versions_in))

    tables: dict[str, Table] = {}
    # Each group remembers what it is made of, so that its learners can be counted exactly when needed.
    makeup: dict[tuple[str, str], _Scope] = {}

    # By month: every month of the period, empty ones included (a chart with holes would mislead).
    months = sorted({row[0] for row in by_month_orgs})
    first = chosen.start or (months[0] if months else None)
    last = chosen.end or (months[-1] if months else None)
    month_groups: dict[int, Group] = {}
    if first is not None and last is not None:
        current = first
        while current <= last and len(month_groups) < 1200:
            month_groups[current] = Group(format_month(current), format_month(current))
            current = current + 1 if current % 100 < 12 else (current // 100 + 1) * 100 + 1
    for month, org_id, credentials, low, high, key_sum in by_month_orgs:
        group = month_groups.setdefault(month, Group(format_month(month), format_month(month)))
        group.add(int(credentials), int(low), int(high), int(key_sum), (org_id,))
        makeup[("monthly", group.key)] = _Scope(org_ids, month, month, base.versions)
    tables["monthly"] = Table("monthly", [month_groups[m] for m in sorted(month_groups)], True)

    def grouped(name: str, rows: Iterable[tuple[str, str, int, int, int, tuple[int, int, int]]], *,
                partition: bool, order: Any = None, whole_organisations: bool = False) -> None:
        groups: dict[str, Group] = {}
        parts: dict[str, tuple[set[int], set[int]]] = defaultdict(lambda: (set(), set()))
        for key, label, org_id, version_id, credentials, low_high in rows:
            group = groups.setdefault(key, Group(key, label))
            group.add(credentials, low_high[0], low_high[1], low_high[2], (org_id,))
            parts[key][0].add(org_id)
            parts[key][1].add(version_id)
        for key, (orgs, versions) in parts.items():
            # Groups of whole organisations are counted on the learner sets (unless a theme narrows them).
            whole = whole_organisations and theme_filter is None
            makeup[(name, key)] = _Scope(frozenset(orgs), chosen.start, chosen.end,
                                         None if whole else frozenset(versions))
        ordered = sorted(groups.values(), key=order or (lambda g: (-g.credentials, name_sort_key(g.label))))
        tables[name] = Table(name, ordered, partition)

    def rows_for(key_of: Any) -> Iterable[Any]:
        for org_id, version_id, achievement_id, credentials, low, high, key_sum in by_version:
            for key, label in key_of(organisations[org_id], version_id, achievement_id):
                yield key, label, org_id, version_id, int(credentials), (int(low), int(high), int(key_sum))

    grouped("competencies", rows_for(lambda o, v, a: [
        (framework_competencies[c].code, framework_competencies[c].name) for c in aligned.get(v, [])]),
        partition=False)
    grouped("domains", rows_for(lambda o, v, a: sorted({
        (domains[c].code, domains[c].name) for c in aligned.get(v, [])})), partition=False)
    grouped("themes", rows_for(lambda o, v, a: [
        themes[t] for t in themes_by_achievement.get(a, [])]), partition=False)
    grouped("sectors", rows_for(lambda o, v, a: [(o.sector.value, o.sector.value)]), partition=True,
            whole_organisations=True)
    grouped("organisation_types", rows_for(lambda o, v, a: [(o.type.value, o.type.value)]), partition=True,
            whole_organisations=True)
    grouped("learning_settings", rows_for(lambda o, v, a: [
        ("formal", "formal") if is_formal(o.type) else ("non_formal", "non_formal")]), partition=True,
        order=lambda g: 0 if g.key == "non_formal" else 1, whole_organisations=True)
    if detail:
        grouped("organisations", rows_for(lambda o, v, a: [(o.slug, o.name)]), partition=True,
                whole_organisations=True)

    # By area (effective area: the credential's, else its organisation's, else none).
    area_by_id = {area_id: (code, name) for area_id, code, name in dimensions.areas}
    territory_areas = frozenset(area_by_id)
    area_groups: dict[str, Group] = {}
    area_parts: dict[str, tuple[set[int], set[int]]] = defaultdict(lambda: (set(), set()))
    for org_id, area_id, credentials, low, high, key_sum in by_area:
        effective = area_id if area_id in area_by_id else organisations[org_id].area_id
        area = area_by_id.get(effective or 0)
        key, label = area if area is not None else (NO_AREA, NO_AREA)
        area_groups.setdefault(key, Group(key, label)).add(int(credentials), int(low), int(high), int(key_sum),
                                                           (org_id,))
        if area is not None:
            area_parts[key][0].add(effective or 0)
            if area_id not in area_by_id:
                area_parts[key][1].add(org_id)
    for key in area_groups:
        if key == NO_AREA:
            with_area = {o for o in org_ids if organisations[o].area_id in area_by_id}
            makeup[("areas", key)] = _Scope(org_ids - with_area, chosen.start, chosen.end, base.versions,
                                            areas=frozenset(), area_fallback=org_ids - with_area,
                                            territory_areas=territory_areas)
        else:
            ids, fallback = area_parts[key]
            makeup[("areas", key)] = _Scope(org_ids, chosen.start, chosen.end, base.versions, areas=frozenset(ids),
                                            area_fallback=frozenset(fallback), territory_areas=territory_areas)
    tables["areas"] = Table("areas", sorted(area_groups.values(), key=lambda g: (
        g.key == NO_AREA, -g.credentials, name_sort_key(g.label))), True)

    # Demand against supply: per competency that approved members look for.
    competency_groups = {g.key: g for g in tables["competencies"].groups}
    demand_groups = []
    for competency_id, declaring in dimensions.demand:
        competency = framework_competencies[competency_id]
        supplied = competency_groups.get(competency.code)
        group = Group(competency.code, competency.name)
        if supplied is not None:
            group.add(supplied.credentials, supplied.learners_low, supplied.learners_high, supplied.key_sum,
                      supplied.organisations)
            makeup[("demand", group.key)] = makeup[("competencies", group.key)]
        group.extra["organisations"] = declaring
        demand_groups.append(group)
    tables["demand"] = Table("demand", demand_groups, False)

    # Decide, for every group, whether it counts THRESHOLD learners or more.
    for name, table in tables.items():
        for group in table.groups:
            if group.learners_low >= THRESHOLD:
                group.enough_learners = True
            elif group.learners_high < THRESHOLD or (name, group.key) not in makeup:
                group.enough_learners = False
            else:
                group.enough_learners = counter.learners(makeup[(name, group.key)]) >= THRESHOLD

    learners, several_organisations, several_sectors, *learner_keys = counter.summary(base)
    total = sum(g.credentials for g in tables["monthly"].groups)
    active = len({row[0] for row in by_version})
    keys = dict(zip(("learners", "learners_several_organisations", "learners_several_sectors"), learner_keys,
                    strict=True))
    keys["credentials"] = sum(g.key_sum for g in tables["monthly"].groups)
    generated = max((updated for _, updated in revisions.values() if updated is not None), default=None)
    return Figures(dimensions.slug, dimensions.name, chosen, (months[0], months[-1]) if months else None,
                   Summary(total, learners, several_organisations, several_sectors, active, keys), tables, generated,
                   _span(dimensions))


def _span(dimensions: _Dimensions) -> tuple[int, int] | None:
    """The months the territory's data spans (the periods the filter offers), one small aggregate."""
    first, last = db.session.execute(select(func.min(StatsCell.month), func.max(StatsCell.month)).where(
        StatsCell.organisation_id.in_([o.id for o in dimensions.organisations] or [0]),
        StatsCell.credentials > 0)).one()
    return (int(first), int(last)) if first is not None else None


__all__ = ["FORMAL_TYPES", "NO_AREA", "ORGANISATION_THRESHOLD", "THRESHOLD", "Figures", "Filters", "Group",
           "Summary", "Table", "clear_cache", "format_month", "is_formal", "observatory", "parse_filters"]
