"""Keeping :class:`~badgehub.stats.models.StatsAreaMonth` (organisation × month × area) in step with the cells.

:mod:`badgehub.stats.service` calls these in the issuing and revoking transaction, with the learner ids and
record keys it already has, so this module needs nothing of it (the imports point one way). The organisation's
status-list lock, held by issuing and revoking, already serialises the writes to one organisation's rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pyroaring import BitMap
from sqlalchemy import delete, insert, select

from badgehub.db import binary_rows
from badgehub.extensions import db
from badgehub.stats.models import StatsAreaMonth
from badgehub.stats.ptable import KEY_RANGE

AreaMonth = tuple[int, int, int]  # organisation, month, area (0: none)


def add(groups: Mapping[AreaMonth, Iterable[tuple[int, int]]]) -> None:
    """Count newly issued credentials: ``{(organisation, month, area): [(learner id, record key), ...]}``, one
    pair per credential."""
    for group, pairs in sorted(groups.items()):
        pairs = list(pairs)
        row = db.session.get(StatsAreaMonth, group, with_for_update=True)
        if row is None:
            row = StatsAreaMonth(organisation_id=group[0], month=group[1], area_id=group[2], credentials=0,
                                 learners=0, key_sum=0, learner_ids=BitMap().serialize())
            db.session.add(row)
        learners = BitMap.deserialize(row.learner_ids) if row.learner_ids else BitMap()
        learners.update(identifier for identifier, _ in pairs)
        row.credentials = row.credentials + len(pairs)
        row.key_sum = (row.key_sum + sum(key for _, key in pairs)) % KEY_RANGE
        row.learners = len(learners)
        row.learner_ids = learners.serialize()


def remove(group: AreaMonth, record_key: int, leaving: int | None) -> None:
    """Take a revoked credential out of its row: ``leaving`` is the learner id when the recipient holds no other
    live credential of the organisation, month and area (then the learner leaves the set), else None."""
    row = db.session.get(StatsAreaMonth, group, with_for_update=True)
    if row is None:  # counted before this table existed and never rebuilt: the migration fills it
        return
    row.credentials = row.credentials - 1
    row.key_sum = (row.key_sum + KEY_RANGE - record_key) % KEY_RANGE
    if leaving is not None:
        learners = BitMap.deserialize(row.learner_ids) if row.learner_ids else BitMap()
        learners.discard(leaving)
        row.learners = len(learners)
        row.learner_ids = learners.serialize()


def rewrite(counts: Mapping[AreaMonth, tuple[int, int]], learners: Mapping[tuple[int, ...], Iterable[int]]) -> None:
    """Write every row again (the rebuild): ``counts`` ``{group: (credentials, key sum)}`` and the learner ids of
    each group."""
    db.session.execute(delete(StatsAreaMonth))
    rows = []
    for group, (credentials, key_sum) in counts.items():
        ids = BitMap(learners.get(group, ()))
        rows.append({"organisation_id": group[0], "month": group[1], "area_id": group[2],
                     "credentials": credentials, "learners": len(ids), "key_sum": key_sum % KEY_RANGE,
                     "learner_ids": ids.serialize()})
    for start in range(0, len(rows), 5_000):
        db.session.execute(insert(StatsAreaMonth), rows[start:start + 5_000])


def stored() -> dict[tuple[int, ...], tuple[int, int, int]]:
    """``{(organisation, month, area): (credentials, learners, key sum)}`` as stored (empty rows left out); the
    learners read -1 when the count disagrees with the bitmap, so a check sees it."""
    found: dict[tuple[int, ...], tuple[int, int, int]] = {}
    for row in db.session.execute(select(StatsAreaMonth.organisation_id, StatsAreaMonth.month,
                                         StatsAreaMonth.area_id, StatsAreaMonth.credentials,
                                         StatsAreaMonth.learners, StatsAreaMonth.key_sum,
                                         StatsAreaMonth.learner_ids)).tuples():
        if row[3] > 0:
            size = len(BitMap.deserialize(row[6])) if row[6] else 0
            found[tuple(row[:3])] = (row[3], row[4] if row[4] == size else -1, row[5])
    return found


def learner_sets(organisations: Iterable[int], start: int | None, end: int | None) -> dict[AreaMonth, Any]:
    """The learner bitmaps of the rows of these organisations and months (read when an area line's privacy
    threshold is not decided by the bounds)."""
    query = select(StatsAreaMonth.organisation_id, StatsAreaMonth.month, StatsAreaMonth.area_id,
                   StatsAreaMonth.learner_ids).where(
        StatsAreaMonth.organisation_id.in_(sorted(organisations) or [0]), StatsAreaMonth.credentials > 0)
    if start is not None:
        query = query.where(StatsAreaMonth.month >= start)
    if end is not None:
        query = query.where(StatsAreaMonth.month <= end)
    return {(o, m, a): BitMap.deserialize(blob) for o, m, a, blob in binary_rows(query)}
