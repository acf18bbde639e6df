"""Keeping :class:`~badgehub.stats.models.StatsLearnerYear` (the learners of an organisation in a year) equal to
the union of the organisation's learner sets of the year's months, and reading them.

:mod:`badgehub.stats.service` calls :func:`add` and :func:`recount_years` in the issuing and revoking
transaction, after it changed the month sets; the organisation's status-list lock, held by issuing and revoking,
already serialises the writes to one organisation's rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from pyroaring import BitMap
from sqlalchemy import delete, insert, select

from badgehub.db import binary_rows
from badgehub.extensions import db
from badgehub.stats.models import StatsLearnerSet, StatsLearnerYear

OrganisationYear = tuple[int, int]


def add(groups: Mapping[OrganisationYear, Iterable[int]]) -> None:
    """Add learners (ids of :class:`~badgehub.stats.models.StatsLearner`) to the sets of these organisations
    and years: a learner who joins a month of the year is in the year."""
    for group, identifiers in sorted(groups.items()):
        row = db.session.get(StatsLearnerYear, group, with_for_update=True)
        learners = BitMap.deserialize(row.learner_ids) if row is not None else BitMap()
        learners.update(identifiers)
        if row is None:
            db.session.add(StatsLearnerYear(organisation_id=group[0], year=group[1],
                                            learner_ids=learners.serialize()))
        else:
            row.learner_ids = learners.serialize()


def recount_years(groups: Iterable[OrganisationYear]) -> None:
    """Set each organisation and year to the union of its month sets again (after learners left a month set,
    they stay in the year when another month of it holds them)."""
    for organisation_id, year in sorted(set(groups)):
        months = db.session.scalars(select(StatsLearnerSet.learner_ids).where(
            StatsLearnerSet.organisation_id == organisation_id,
            StatsLearnerSet.month.between(year * 100 + 1, year * 100 + 12))).all()
        learners = BitMap.union(*(BitMap.deserialize(blob) for blob in months)) if months else BitMap()
        row = db.session.get(StatsLearnerYear, (organisation_id, year), with_for_update=True)
        if row is None:
            db.session.add(StatsLearnerYear(organisation_id=organisation_id, year=year,
                                            learner_ids=learners.serialize()))
        else:
            row.learner_ids = learners.serialize()


def rewrite(month_sets: Mapping[tuple[int, int], BitMap]) -> None:
    """Write every row again from the month sets ``{(organisation, month): learners}`` (the rebuild)."""
    db.session.execute(delete(StatsLearnerYear))
    years: dict[OrganisationYear, list[BitMap]] = defaultdict(list)
    for (organisation_id, month), learners in month_sets.items():
        years[(organisation_id, month // 100)].append(learners)
    rows = [{"organisation_id": group[0], "year": group[1], "learner_ids": BitMap.union(*sets).serialize()}
            for group, sets in sorted(years.items())]
    for start in range(0, len(rows), 5_000):
        db.session.execute(insert(StatsLearnerYear), rows[start:start + 5_000])


def stored(month_sets: Mapping[tuple[int, int], BitMap]) -> dict[tuple[int, ...], int]:
    """``{(organisation, year): learners}`` as stored (empty sets left out); the learners read -1 when the set
    is not the union of the month sets ``{(organisation, month): learners}`` as stored, so a check sees it."""
    years: dict[OrganisationYear, BitMap] = defaultdict(BitMap)
    for (organisation_id, month), learners in month_sets.items():
        years[(organisation_id, month // 100)] |= learners
    found: dict[tuple[int, ...], int] = {}
    for organisation_id, year, blob in db.session.execute(select(
            StatsLearnerYear.organisation_id, StatsLearnerYear.year, StatsLearnerYear.learner_ids)).tuples():
        learners = BitMap.deserialize(blob)
        if learners or years.get((organisation_id, year)):
            found[(organisation_id, year)] = len(learners) if learners == years.get((organisation_id, year)) else -1
    return found


def read(organisations: Iterable[int], first: int | None, last: int | None) -> dict[OrganisationYear, BitMap]:
    """The sets of these organisations from year ``first`` to ``last`` (None: no bound)."""
    query = select(StatsLearnerYear.organisation_id, StatsLearnerYear.year, StatsLearnerYear.learner_ids).where(
        StatsLearnerYear.organisation_id.in_(sorted(organisations) or [0]))
    if first is not None:
        query = query.where(StatsLearnerYear.year >= first)
    if last is not None:
        query = query.where(StatsLearnerYear.year <= last)
    return {(o, y): BitMap.deserialize(blob) for o, y, blob in binary_rows(query)}
