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
lower bound, the sum an upper bound) and otherwise by an exact count (:mod:`badgehub.stats.learners`: unions of
learner sets, or for areas a live count on ``issued_credentials``). Whole results are cached per process, keyed
by everything they are computed from (see :class:`~badgehub.stats.dimensions.Dimensions`), so a cached figure is
never stale.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from cachetools import LRUCache
from sqlalchemy import func, select

from badgehub.achievements.models import AchievementCompetency, AchievementVersion
from badgehub.extensions import db
from badgehub.stats import learners, recognition
from badgehub.stats.dimensions import Dimensions, Member, domain_of, read_dimensions
from badgehub.stats.figures import (
    FORMAL_TYPES,
    NO_AREA,
    ORGANISATION_THRESHOLD,
    THRESHOLD,
    Figures,
    Group,
    Summary,
    Table,
    is_formal,
)
from badgehub.stats.filters import Filters, format_month, parse_filters, period_months, periods_between
from badgehub.stats.learners import CACHE_LOCK, LearnerCounter, Scope
from badgehub.stats.models import StatsAreaCell, StatsAreaMonth, StatsCell
from badgehub.territory.models import Territory
from badgehub.territory.slugs import name_sort_key

_FIGURES: LRUCache[tuple[Any, ...], Figures] = LRUCache(maxsize=256)

# One cell-query row: credentials, the largest cell's learners, the sum of the cells' learners, the key sum.
_SUMS = (func.sum(StatsCell.credentials), func.max(StatsCell.learners), func.sum(StatsCell.learners),
         func.sum(StatsCell.key_sum))


def clear_cache() -> None:
    """Forget every cached live count and figure (tests and the bench; never needed for correctness)."""
    learners.clear()
    with CACHE_LOCK:
        _FIGURES.clear()


def observatory(territory: Territory, filters: Filters | None = None, *, detail: bool = False) -> Figures:
    """The exact figures of ``territory`` for ``filters`` (see the module docstring for what counts).

    ``detail`` adds the per-organisation table (coordinators only: the caller checks). Read only. The result
    is cached per process, keyed by everything it is computed from (see :class:`Dimensions`)."""
    chosen = filters or Filters()
    dimensions = read_dimensions(territory)
    key = (dimensions, chosen, detail)
    with CACHE_LOCK:
        found = _FIGURES.get(key)
    if found is not None:
        return found
    figures = _Builder(dimensions, chosen).figures(detail)
    with CACHE_LOCK:
        _FIGURES[key] = figures
    return figures


class _Builder:
    """The figures of one territory for one selection, built table by table from the cells.

    Each group also remembers what it is made of (``makeup``: a :class:`Scope`), so that its learners can be
    counted exactly when the cells' bounds cannot decide the privacy threshold."""

    def __init__(self, dimensions: Dimensions, chosen: Filters) -> None:
        self.dimensions = dimensions
        self.chosen = chosen
        self.organisations: dict[int, Member] = {
            o.id: o for o in dimensions.organisations if not chosen.sector or o.sector == chosen.sector}
        self.org_ids = frozenset(self.organisations)
        self.theme_filter = next((theme_id for theme_id, code, _ in dimensions.themes if code == chosen.theme), None)
        self.tables: dict[str, Table] = {}
        self.makeup: dict[tuple[str, str], Scope] = {}

    def figures(self, detail: bool) -> Figures:
        self._read_cells()
        self._monthly()
        self._breakdowns(detail)
        self._areas()
        self._demand()
        self._decide_thresholds()
        self.tables.update(recognition.tables(self.dimensions, self.chosen))  # thresholds decided there
        months = sorted({row[0] for row in self.by_month_orgs})
        generated = max((updated for _, updated in self.revisions.values() if updated is not None), default=None)
        return Figures(self.dimensions.slug, self.dimensions.name, self.chosen,
                       (months[0], months[-1]) if months else None, self._summary(), self.tables, generated,
                       _span(self.dimensions))

    def _cell_query(self, model: Any, *columns: Any) -> Any:
        """The cells of the selection: its organisations, months and (with a theme) tagged versions."""
        chosen = self.chosen
        query = select(*columns).where(model.organisation_id.in_(sorted(self.org_ids) or [0]), model.credentials > 0)
        if chosen.start is not None:
            query = query.where(model.month >= chosen.start)
        if chosen.end is not None:
            query = query.where(model.month <= chosen.end)
        if self.theme_filter is not None:
            tagged = sorted({a for a, t in self.dimensions.tags if t == self.theme_filter}) or [0]
            query = query.where(model.achievement_version_id.in_(
                select(AchievementVersion.id).where(AchievementVersion.achievement_id.in_(tagged))))
        return query

    def _read_cells(self) -> None:
        """The three aggregates every table is made of (by month and organisation, by organisation and badge
        version, by organisation and area), the versions' competencies and the learner counter."""
        self.by_month_orgs = db.session.execute(
            self._cell_query(StatsCell, StatsCell.month, StatsCell.organisation_id, *_SUMS)
            .group_by(StatsCell.month, StatsCell.organisation_id).order_by(StatsCell.month)).tuples().all()
        version_sums = db.session.execute(self._cell_query(
            StatsCell, StatsCell.organisation_id, StatsCell.achievement_version_id, *_SUMS)
            .group_by(StatsCell.organisation_id, StatsCell.achievement_version_id)).tuples().all()
        achievement_of = dict(db.session.execute(
            select(AchievementVersion.id, AchievementVersion.achievement_id)
            .where(AchievementVersion.id.in_(sorted({row[1] for row in version_sums}) or [0]))).tuples().all())
        self.by_version = [(org, version, achievement_of[version], *rest) for org, version, *rest in version_sums]
        # Without a theme, the organisation × month × area rows (a tenth of the area cells) say as much.
        model: Any = StatsAreaCell if self.theme_filter is not None else StatsAreaMonth
        self.by_area = db.session.execute(self._cell_query(
            model, model.organisation_id, model.area_id, func.sum(model.credentials), func.max(model.learners),
            func.sum(model.learners), func.sum(model.key_sum))
            .group_by(model.organisation_id, model.area_id)).tuples().all()
        self.versions_in = frozenset(row[1] for row in self.by_version)
        # Versions' competencies, restricted to the territory's own framework.
        self.framework_competencies = {c.id: c for c in self.dimensions.competencies}
        self.aligned: dict[int, list[int]] = defaultdict(list)
        if self.versions_in:
            for version_id, competency_id in db.session.execute(
                    select(AchievementCompetency.achievement_version_id, AchievementCompetency.competency_id)
                    .where(AchievementCompetency.achievement_version_id.in_(sorted(self.versions_in)))).tuples():
                if competency_id in self.framework_competencies:
                    self.aligned[version_id].append(competency_id)
        self.revisions = {org: (revision, updated) for org, revision, updated in self.dimensions.revisions
                          if org in self.org_ids}
        self.base = Scope(self.org_ids, self.chosen.start, self.chosen.end,
                          None if self.theme_filter is None else self.versions_in)
        self.counter = LearnerCounter(self.revisions, {o.id: o.sector for o in self.organisations.values()},
                                      self.base)

    def _monthly(self) -> None:
        """By month: every month of the period, empty ones included (a chart with holes would mislead)."""
        months = sorted({row[0] for row in self.by_month_orgs})
        first = self.chosen.start or (months[0] if months else None)
        last = self.chosen.end or (months[-1] if months else None)
        month_groups: dict[int, Group] = {}
        if first is not None and last is not None:
            current = first
            while current <= last and len(month_groups) < 1200:
                month_groups[current] = Group(format_month(current), format_month(current))
                current = current + 1 if current % 100 < 12 else (current // 100 + 1) * 100 + 1
        for month, org_id, credentials, low, high, key_sum in self.by_month_orgs:
            group = month_groups.get(month)
            if group is None:
                group = month_groups[month] = Group(format_month(month), format_month(month))
            group.add(int(credentials), int(low), int(high), int(key_sum), (org_id,))
        for month in {row[0] for row in self.by_month_orgs}:
            self.makeup[("monthly", format_month(month))] = Scope(self.org_ids, month, month, self.base.versions)
        self.tables["monthly"] = Table("monthly", [month_groups[m] for m in sorted(month_groups)], True)

    def _grouped(self, name: str, key_of: Callable[[Member, int, int], Iterable[tuple[str, str]]], *,
                 partition: bool, order: Any = None, whole_organisations: bool = False) -> None:
        """A table whose lines are made of (organisation, version) aggregates: ``key_of`` says which lines
        (key, label) each one counts in."""
        groups: dict[str, Group] = {}
        parts: dict[str, tuple[set[int], set[int]]] = defaultdict(lambda: (set(), set()))
        for org_id, version_id, achievement_id, credentials, low, high, key_sum in self.by_version:
            for key, label in key_of(self.organisations[org_id], version_id, achievement_id):
                group = groups.setdefault(key, Group(key, label))
                group.add(int(credentials), int(low), int(high), int(key_sum), (org_id,))
                parts[key][0].add(org_id)
                parts[key][1].add(version_id)
        # Groups of whole organisations are counted on the learner sets (unless a theme narrows them).
        whole = whole_organisations and self.theme_filter is None
        for key, (orgs, versions) in parts.items():
            self.makeup[(name, key)] = Scope(frozenset(orgs), self.chosen.start, self.chosen.end,
                                             None if whole else frozenset(versions))
        ordered = sorted(groups.values(), key=order or (lambda g: (-g.credentials, name_sort_key(g.label))))
        self.tables[name] = Table(name, ordered, partition)

    def _breakdowns(self, detail: bool) -> None:
        """Competencies, domains, themes, sectors, organisation types, learning settings (and, for coordinators,
        organisations)."""
        competencies = self.framework_competencies
        domains = domain_of(competencies)
        themes = {theme_id: (code, name) for theme_id, code, name in self.dimensions.themes}
        themes_by_achievement: dict[int, list[int]] = defaultdict(list)
        for achievement_id, theme_id in self.dimensions.tags:
            themes_by_achievement[achievement_id].append(theme_id)
        aligned = self.aligned
        self._grouped("competencies", lambda o, v, a: [
            (competencies[c].code, competencies[c].name) for c in aligned.get(v, [])], partition=False)
        self._grouped("domains", lambda o, v, a: sorted({
            (domains[c].code, domains[c].name) for c in aligned.get(v, [])}), partition=False)
        self._grouped("themes", lambda o, v, a: [themes[t] for t in themes_by_achievement.get(a, [])],
                      partition=False)
        self._grouped("sectors", lambda o, v, a: [(o.sector.value, o.sector.value)], partition=True,
                      whole_organisations=True)
        self._grouped("organisation_types", lambda o, v, a: [(o.type.value, o.type.value)], partition=True,
                      whole_organisations=True)
        self._grouped("learning_settings", lambda o, v, a: [
            ("formal", "formal") if is_formal(o.type) else ("non_formal", "non_formal")], partition=True,
            order=lambda g: 0 if g.key == "non_formal" else 1, whole_organisations=True)
        if detail:
            self._grouped("organisations", lambda o, v, a: [(o.slug, o.name)], partition=True,
                          whole_organisations=True)

    def _areas(self) -> None:
        """By area (effective area: the credential's, else its organisation's, else none)."""
        area_by_id = {area_id: (code, name) for area_id, code, name in self.dimensions.areas}
        territory_areas = frozenset(area_by_id)
        area_groups: dict[str, Group] = {}
        area_parts: dict[str, tuple[set[int], set[int]]] = defaultdict(lambda: (set(), set()))
        for org_id, area_id, credentials, low, high, key_sum in self.by_area:
            effective = area_id if area_id in area_by_id else self.organisations[org_id].area_id
            area = area_by_id.get(effective or 0)
            key, label = area if area is not None else (NO_AREA, NO_AREA)
            area_groups.setdefault(key, Group(key, label)).add(int(credentials), int(low), int(high), int(key_sum),
                                                               (org_id,))
            if area is not None:
                area_parts[key][0].add(effective or 0)
                if area_id not in area_by_id:
                    area_parts[key][1].add(org_id)
        org_ids, chosen, versions = self.org_ids, self.chosen, self.base.versions
        for key in area_groups:
            if key == NO_AREA:
                without = org_ids - {o for o in org_ids if self.organisations[o].area_id in area_by_id}
                self.makeup[("areas", key)] = Scope(without, chosen.start, chosen.end, versions, areas=frozenset(),
                                                    area_fallback=without, territory_areas=territory_areas)
            else:
                ids, fallback = area_parts[key]
                self.makeup[("areas", key)] = Scope(org_ids, chosen.start, chosen.end, versions,
                                                    areas=frozenset(ids), area_fallback=frozenset(fallback),
                                                    territory_areas=territory_areas)
        self.tables["areas"] = Table("areas", sorted(area_groups.values(), key=lambda g: (
            g.key == NO_AREA, -g.credentials, name_sort_key(g.label))), True)

    def _demand(self) -> None:
        """Demand against supply: per competency that approved members look for."""
        competency_groups = {g.key: g for g in self.tables["competencies"].groups}
        demand_groups = []
        for competency_id, declaring in self.dimensions.demand:
            competency = self.framework_competencies[competency_id]
            supplied = competency_groups.get(competency.code)
            group = Group(competency.code, competency.name)
            if supplied is not None:
                group.add(supplied.credentials, supplied.learners_low, supplied.learners_high, supplied.key_sum,
                          supplied.organisations)
                self.makeup[("demand", group.key)] = self.makeup[("competencies", group.key)]
            group.extra["organisations"] = declaring
            demand_groups.append(group)
        self.tables["demand"] = Table("demand", demand_groups, False)

    def _decide_thresholds(self) -> None:
        """Decide, for every group, whether it counts THRESHOLD learners or more: from the cells' bounds when
        they suffice, else by an exact count."""
        for name, table in self.tables.items():
            for group in table.groups:
                if group.learners_low >= THRESHOLD:
                    group.enough_learners = True
                elif group.learners_high < THRESHOLD or (name, group.key) not in self.makeup:
                    group.enough_learners = False
                else:
                    group.enough_learners = self.counter.learners(self.makeup[(name, group.key)]) >= THRESHOLD

    def _summary(self) -> Summary:
        learners_count, several_organisations, several_sectors, *learner_keys = self.counter.summary()
        monthly = self.tables["monthly"].groups
        keys = dict(zip(("learners", "learners_several_organisations", "learners_several_sectors"), learner_keys,
                        strict=True))
        keys["credentials"] = sum(g.key_sum for g in monthly)
        active = {row[0] for row in self.by_version}
        keys["organisations"] = sum(self.organisations[org].record_key for org in active)
        return Summary(sum(g.credentials for g in monthly), learners_count, several_organisations, several_sectors,
                       len(active), keys)


def _span(dimensions: Dimensions) -> tuple[int, int] | None:
    """The months the territory's data spans (the periods the filter offers), one small aggregate."""
    first, last = db.session.execute(select(func.min(StatsCell.month), func.max(StatsCell.month)).where(
        StatsCell.organisation_id.in_([o.id for o in dimensions.organisations] or [0]),
        StatsCell.credentials > 0)).one()
    return (int(first), int(last)) if first is not None else None


__all__ = ["FORMAL_TYPES", "NO_AREA", "ORGANISATION_THRESHOLD", "THRESHOLD", "Figures", "Filters", "Group",
           "Summary", "Table", "clear_cache", "format_month", "is_formal", "observatory", "parse_filters",
           "period_months", "periods_between"]
