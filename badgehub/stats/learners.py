"""Exact counts of distinct learners for the observatory, and the cell keys of those counts.

Whole organisations (no theme, no area) are counted on the learner sets (Roaring bitmaps of learner ids per
organisation and month, :class:`~badgehub.stats.models.StatsLearnerSet`); narrower questions are counted live on
``issued_credentials`` and cached per process, keyed by the revisions of the organisations they look at (see
:class:`~badgehub.stats.models.StatsOrganisation`), so a cached count is never stale.
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

from badgehub.extensions import db
from badgehub.issuing.models import IssuedCredential
from badgehub.organisations.models import Organisation, Sector
from badgehub.stats.models import StatsLearner
from badgehub.stats.service import key_hash, learner_key, learner_keys, month_bounds


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
    """Exact counts of distinct learners: unions of the learner sets of organisations and months when the
    question is about whole organisations (no theme, no area), else live counts on ``issued_credentials``
    cached by the revisions of the organisations they look at."""

    def __init__(self, revisions: Mapping[int, tuple[int, Any]], sets: Mapping[tuple[int, int], BitMap] | None,
                 sectors: Mapping[int, Sector]) -> None:
        self.revisions = revisions
        self.database = str(db.session.get_bind().engine.url)
        self.sets = sets
        self.sectors = sectors

    def _by_organisation(self, scope: Scope) -> dict[int, BitMap] | None:
        if self.sets is None or scope.versions is not None or scope.areas is not None:
            return None
        found: dict[int, list[BitMap]] = defaultdict(list)
        for (organisation_id, month), learners in self.sets.items():
            if (organisation_id in scope.organisations and (scope.start is None or month >= scope.start)
                    and (scope.end is None or month <= scope.end)):
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

    def learners(self, scope: Scope) -> int:
        if not scope.organisations:
            return 0
        organisations = self._by_organisation(scope)
        if organisations is not None:
            return len(BitMap.union(*organisations.values())) if organisations else 0
        return self._cached("learners", scope, lambda: (int(db.session.scalar(
            select(func.count(func.distinct(learner_key()))).where(*_where(scope))) or 0),))[0]

    def summary(self, scope: Scope) -> tuple[int, ...]:
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
            keys = learner_keys()
            if everyone and everyone.max() >= len(keys):  # only if the blocks lag behind the sets: counts 0
                keys.extend([0] * (everyone.max() + 1 - len(keys)))
            return (len(everyone), len(several_organisations), len(several_sectors),
                    *(sum(map(keys.__getitem__, group))
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


def clear() -> None:
    """Forget every cached live count (tests and the bench; never needed for correctness)."""
    with CACHE_LOCK:
        _CACHE.clear()
