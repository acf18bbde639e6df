"""Exact counts of distinct learners for the observatory, and the cell keys of those counts.

Learners are counted on the learner sets, Roaring bitmaps of learner ids per organisation and year
(:class:`~badgehub.stats.models.StatsLearnerYear`, for the whole years of a question) and month
(:class:`~badgehub.stats.models.StatsLearnerSet`, for the other months), per organisation, month and badge version
(:class:`~badgehub.stats.models.StatsVersionLearnerSet`) and per organisation, month and area
(:class:`~badgehub.stats.models.StatsAreaMonth`); only questions about areas narrowed to some badges (a theme)
are counted live on ``issued_credentials``, cached per process and keyed by the revisions of the organisations
they look at (see :class:`~badgehub.stats.models.StatsOrganisation`), so a cached count is never stale. The
cell key of a count of learners is the sum of their record keys (:mod:`badgehub.stats.learner_keys`).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache
from pyroaring import BitMap
from sqlalchemy import and_, func, or_, select

from badgehub.db import binary_rows
from badgehub.extensions import db
from badgehub.issuing.models import IssuedCredential
from badgehub.organisations.models import Sector
from badgehub.stats import area_months, learner_years
from badgehub.stats.learner_keys import key_sums
from badgehub.stats.models import StatsLearnerSet, StatsVersionLearnerSet
from badgehub.stats.service import learner_key, month_bounds


@dataclass(frozen=True)
class Scope:
    """What a live count looks at: credentials of these organisations, versions, months and areas."""

    organisations: frozenset[int]
    start: int | None
    end: int | None
    versions: frozenset[int] | None = None
    areas: frozenset[int] | None = None  # credentials recorded in these areas …
    area_fallback: frozenset[int] | None = None  # … or without one of the territory's areas, from these orgs
    territory_areas: frozenset[int] = frozenset()


_CACHE: LRUCache[tuple[Any, ...], tuple[int, ...]] = LRUCache(maxsize=4096)
CACHE_LOCK = threading.Lock()


def _where(scope: Scope) -> list[Any]:
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


class LearnerCounter:
    """Exact counts of distinct learners of a selection (its organisations and months): unions of learner sets
    (per organisation and year or month, or per organisation, month and badge version when a question is
    narrowed to some badges), read once each when first needed; questions about areas are counted live on
    ``issued_credentials`` and cached by the revisions of the organisations they look at."""

    def __init__(self, revisions: Mapping[int, tuple[int, Any]], sectors: Mapping[int, Sector],
                 selection: Scope) -> None:
        self.revisions = revisions
        self.database = str(db.session.get_bind().engine.url)
        self.sectors = sectors
        self.selection = selection
        self._by_version: dict[tuple[int, int, int], BitMap] | None = None
        self._pieces: dict[tuple[int | None, int | None], dict[int, list[BitMap]]] = {}
        self._area_sets: dict[tuple[int, int, int], BitMap] | None = None

    def _version_sets(self) -> dict[tuple[int, int, int], BitMap]:
        """The sets per organisation, month and badge version of the selection, read once."""
        if self._by_version is None:
            selection, model = self.selection, StatsVersionLearnerSet
            query = select(model.organisation_id, model.month, model.achievement_version_id, model.learner_ids).where(
                model.organisation_id.in_(sorted(selection.organisations) or [0]))
            if selection.start is not None:
                query = query.where(model.month >= selection.start)
            if selection.end is not None:
                query = query.where(model.month <= selection.end)
            if selection.versions is not None:
                query = query.where(model.achievement_version_id.in_(sorted(selection.versions) or [0]))
            self._by_version = {(o, m, v): BitMap.deserialize(blob) for o, m, v, blob in binary_rows(query)}
        return self._by_version

    def _organisation_pieces(self, start: int | None, end: int | None) -> dict[int, list[BitMap]]:
        """The sets whose union is each organisation's learners from month ``start`` to ``end`` (None: no bound):
        one per whole year (:class:`~badgehub.stats.models.StatsLearnerYear`), one per month of a year the span
        covers in part. Read once per span."""
        if (start, end) not in self._pieces:
            first = None if start is None else start // 100 + (start % 100 != 1)
            last = None if end is None else end // 100 - (end % 100 != 12)
            whole = first is None or last is None or first <= last
            found: dict[int, list[BitMap]] = defaultdict(list)
            if whole:
                for (organisation_id, _), learners in learner_years.read(
                        self.selection.organisations, first, last).items():
                    found[organisation_id].append(learners)
            months = select(StatsLearnerSet.organisation_id, StatsLearnerSet.learner_ids).where(
                StatsLearnerSet.organisation_id.in_(sorted(self.selection.organisations) or [0]))
            if start is not None:
                months = months.where(StatsLearnerSet.month >= start)
            if end is not None:
                months = months.where(StatsLearnerSet.month <= end)
            outside = [] if not whole else [
                *([] if first is None else [StatsLearnerSet.month < first * 100]),
                *([] if last is None else [StatsLearnerSet.month > last * 100 + 12])]
            if not whole or outside:
                for organisation_id, blob in binary_rows(months.where(or_(*outside)) if outside else months):
                    found[organisation_id].append(BitMap.deserialize(blob))
            self._pieces[(start, end)] = found
        return self._pieces[(start, end)]

    def _by_organisation(self, scope: Scope) -> dict[int, BitMap] | None:
        """The learners of each organisation of ``scope`` (None when it is about areas: no sets for them)."""
        if scope.areas is not None:
            return None
        if scope.versions is None:
            pieces = self._organisation_pieces(scope.start, scope.end)
            return {organisation_id: BitMap.union(*sets) for organisation_id, sets in pieces.items()
                    if organisation_id in scope.organisations}
        found: dict[int, list[BitMap]] = defaultdict(list)
        for (organisation_id, month, version_id), learners in self._version_sets().items():
            if (organisation_id in scope.organisations and (scope.start is None or month >= scope.start)
                    and (scope.end is None or month <= scope.end) and version_id in scope.versions):
                found[organisation_id].append(learners)
        return {organisation_id: BitMap.union(*sets) for organisation_id, sets in found.items()}

    def _cached(self, kind: str, scope: Scope, compute: Any) -> tuple[int, ...]:
        key = (self.database, kind, scope,
               tuple((org, self.revisions.get(org)) for org in sorted(scope.organisations)))
        with CACHE_LOCK:
            found = _CACHE.get(key)
        if found is not None:
            return found
        value: tuple[int, ...] = compute()
        with CACHE_LOCK:
            _CACHE[key] = value
        return value

    def _by_area(self, scope: Scope) -> BitMap:
        """The learners of an area line of ``scope`` (no theme: not narrowed to some badges), a union of the
        organisation × month × area sets."""
        if self._area_sets is None:
            selection = self.selection
            self._area_sets = area_months.learner_sets(selection.organisations, selection.start, selection.end)
        areas, fallback = scope.areas or frozenset(), scope.area_fallback or frozenset()
        chosen = [learners for (organisation_id, month, area_id), learners in self._area_sets.items()
                  if organisation_id in scope.organisations
                  and (scope.start is None or month >= scope.start) and (scope.end is None or month <= scope.end)
                  and (area_id in areas or (area_id not in scope.territory_areas and organisation_id in fallback))]
        return BitMap.union(*chosen) if chosen else BitMap()

    def learners(self, scope: Scope) -> int:
        """Distinct learners of ``scope`` (a part of the selection)."""
        if not scope.organisations:
            return 0
        organisations = self._by_organisation(scope)
        if organisations is not None:
            return len(BitMap.union(*organisations.values())) if organisations else 0
        if scope.versions is None:
            return len(self._by_area(scope))
        return self._cached("learners", scope, lambda: (int(db.session.scalar(
            select(func.count(func.distinct(learner_key()))).where(*_where(scope))) or 0),))[0]

    def summary(self) -> tuple[int, ...]:
        """Of the whole selection: distinct learners; those holding credentials of two organisations or more; of
        two sectors or more; then the cell keys of these three counts (sums of the learners' record keys)."""
        organisations = self._by_organisation(self.selection) or {}
        if not organisations:
            return 0, 0, 0, 0, 0, 0
        by_sector: dict[Sector, list[BitMap]] = defaultdict(list)
        for organisation_id, learners in organisations.items():
            by_sector[self.sectors[organisation_id]].append(learners)
        everyone, several_organisations = _several(organisations.values())
        _, several_sectors = _several(BitMap.union(*sets) for sets in by_sector.values())
        return (len(everyone), len(several_organisations), len(several_sectors),
                *key_sums((everyone, several_organisations, several_sectors)))


def _several(groups: Iterable[BitMap]) -> tuple[BitMap, BitMap]:
    """Everyone in the groups, and those in two groups or more."""
    seen, several = BitMap(), BitMap()
    for group in groups:
        several |= seen & group
        seen |= group
    return seen, several


def clear() -> None:
    """Forget every cached live count (tests and the bench; never needed for correctness)."""
    with CACHE_LOCK:
        _CACHE.clear()
