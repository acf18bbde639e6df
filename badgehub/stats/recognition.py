"""Counting recognition (issue 17): endorsements, recognition requests and pathway completions, through the same
disclosure control as the credentials.

The endorsement, request and pathway domains send plain-value signals (:mod:`badgehub.events`) and know nothing
of the observatory; :mod:`badgehub.stats.subscribers` hands them to :func:`count_endorsement`,
:func:`count_request` and :func:`count_pathway`, which run in the sender's transaction. Each counted unit (an
endorsement, a request, a completion) is kept once (:class:`~badgehub.stats.models.StatsRecognitionUnit`, with
its random record key) and added to its cell (:class:`~badgehub.stats.models.StatsRecognitionCell`: how many,
the key sum, and for completions the learners as a bitmap); a request that changes state leaves its old cell
for the new one, with the same key.

:func:`tables` turns the cells of a territory into the observatory's tables (lines of a sector or an
organisation type, request outcomes), with the same thresholds as every other figure: a line is published only
when it counts at least :data:`~badgehub.stats.figures.THRESHOLD` units (endorsements, requests; for completions,
distinct learners) and at least :data:`~badgehub.stats.figures.ORGANISATION_THRESHOLD` organisations contribute
(the territory itself, as endorser or owner of pathways, counts as one contributor), and then with the noise of
the cell-key method. **What counts** for a territory: what its approved members (now) gave, received, were
asked or own, and what the territory itself gave or owns, in the months of the period; the sector filter narrows
the organisations described; the theme filter does not apply (recognition is not tagged with themes).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, Final

from pyroaring import BitMap
from sqlalchemy import delete, func, literal_column, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from badgehub.db import binary_rows, utcnow
from badgehub.extensions import db
from badgehub.organisations.models import OrganisationType, Sector
from badgehub.stats.dimensions import Dimensions, Member
from badgehub.stats.figures import THRESHOLD, Group, Table
from badgehub.stats.filters import Filters
from badgehub.stats.models import StatsRecognitionCell, StatsRecognitionUnit
from badgehub.stats.ptable import KEY_RANGE
from badgehub.stats.service import learner_ids, month_of, new_record_key, touch_organisation

ENDORSEMENT: Final = "endorsement"
REQUEST: Final = "request"
COMPLETION: Final = "completion"
TERRITORY: Final = "territory"  # the line of what the territory itself gave or owns
REQUEST_STATUSES: Final = ("submitted", "more_asked", "accepted", "declined", "withdrawn")
ENDORSED_KINDS: Final = frozenset({"achievement", "profile", "credential"})

# Dataset name → (kind of unit, side described: "organisation" or "other", line: "sector", "type" or "status").
TABLES: Final[dict[str, tuple[str, str, str]]] = {
    "endorsements_given_sectors": (ENDORSEMENT, "other", "sector"),
    "endorsements_given_types": (ENDORSEMENT, "other", "type"),
    "endorsements_received_sectors": (ENDORSEMENT, "organisation", "sector"),
    "endorsements_received_types": (ENDORSEMENT, "organisation", "type"),
    "recognition_requests": (REQUEST, "organisation", "status"),
    "pathway_completions": (COMPLETION, "organisation", "sector"),
}
_CELL_KEY: Final = ("kind", "month", "organisation_id", "other_id", "territory_id", "detail", "flag")


def _month(occurred_at: dt.datetime | None) -> int:
    return month_of(occurred_at or utcnow())


def _add(unit: StatsRecognitionUnit, step: int) -> None:
    """Add (``step`` 1) or take away (-1) ``unit`` from its cell (the cell row locked while it changes)."""
    values = {name: getattr(unit, name) for name in _CELL_KEY}
    key = tuple(values.values())
    cell = db.session.get(StatsRecognitionCell, key, with_for_update=True)
    if cell is None:
        # Nothing of the sender serialises two first units of a cell (two learners asking the same organisation
        # in the same month): the insert that comes second does nothing, and both lock the one row.
        builder = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        db.session.execute(builder(StatsRecognitionCell).values(**values, units=0, key_sum=0, learner_ids=b"")
                           .on_conflict_do_nothing())
        cell = db.session.get_one(StatsRecognitionCell, key, with_for_update=True, populate_existing=True)
    cell.units = cell.units + step
    cell.key_sum = (cell.key_sum + step * unit.record_key) % KEY_RANGE
    if unit.learner_id:
        learners = BitMap.deserialize(cell.learner_ids) if cell.learner_ids else BitMap()
        if step > 0:
            learners.add(unit.learner_id)
        else:
            learners.discard(unit.learner_id)
        cell.learner_ids = learners.serialize()


def _count(kind: str, unit_id: str, **values: Any) -> None:
    """Count a unit once; when it is known already and its columns changed (a request's status), move it."""
    unit = db.session.get(StatsRecognitionUnit, (kind, unit_id), with_for_update=True)
    if unit is not None:
        if all(getattr(unit, name) == value for name, value in values.items() if name != "month"):
            return
        _add(unit, -1)
        for name, value in values.items():
            if name != "month":  # a unit stays in the month it was first counted in
                setattr(unit, name, value)
    else:
        unit = StatsRecognitionUnit(kind=kind, unit=unit_id, record_key=new_record_key(), **values)
        db.session.add(unit)
    unit.changed_at = utcnow()
    _add(unit, +1)
    # Cached figures are keyed by the organisations' revisions: those described by this unit change now.
    for organisation_id in sorted({unit.organisation_id, unit.other_id} - {0}):
        touch_organisation(organisation_id)
    db.session.flush()


def count_endorsement(*, endorsement_id: int, kind: str, endorser_organisation_id: int | None,
                      endorsed_organisation_id: int | None, territory_id: int | None = None,
                      occurred_at: dt.datetime | None = None) -> None:
    """Count an endorsement made (``endorsement_issued``). Flushes."""
    _count(ENDORSEMENT, str(endorsement_id), month=_month(occurred_at),
           organisation_id=endorsed_organisation_id or 0, other_id=endorser_organisation_id or 0,
           territory_id=territory_id or 0, detail=kind if kind in ENDORSED_KINDS else "", flag=False,
           learner_id=0)


def count_request(*, request_id: int, organisation_id: int, status: str, self_declared: bool = False,
                  occurred_at: dt.datetime | None = None) -> None:
    """Count a recognition request in its current state (``recognition_request_changed``). Flushes."""
    if status not in REQUEST_STATUSES:
        return
    _count(REQUEST, str(request_id), month=_month(occurred_at), organisation_id=organisation_id or 0, other_id=0,
           territory_id=0, detail=status, flag=bool(self_declared), learner_id=0)


def count_pathway(*, pathway_id: int, owner_organisation_id: int | None, territory_id: int | None,
                  holder_key: str, completed: bool, occurred_at: dt.datetime | None = None) -> None:
    """Count a pathway completed by a learner (``pathway_progressed`` with ``completed``; progress alone is
    not counted). Flushes."""
    if not completed or not holder_key:
        return
    learner = learner_ids([holder_key])[holder_key]
    _count(COMPLETION, f"{pathway_id}:{learner}", month=_month(occurred_at),
           organisation_id=owner_organisation_id or 0, other_id=0,
           territory_id=0 if owner_organisation_id else territory_id or 0, detail="", flag=False,
           learner_id=learner)


# ------------------------------------------------------------------------------------------------ reading


def _line(member: Member | None, line: str, detail: str) -> str | None:
    """The line a cell counts in: the member's sector or type, the request's status, or the territory's own."""
    if line == "status":
        return detail
    if member is None:
        return TERRITORY
    return member.sector.value if line == "sector" else member.type.value


def tables(dimensions: Dimensions, chosen: Filters) -> dict[str, Table]:
    """The recognition tables of a territory for a selection (exact; :mod:`badgehub.stats.privacy` publishes
    them like the others). Each line knows its units, contributing organisations (the territory as ``-id``) and
    key sum; the threshold is decided here, exactly: units, or for completions distinct learners."""
    members = {member.id: member for member in dimensions.organisations}
    described = {o for o, m in members.items() if not chosen.sector or m.sector == chosen.sector}
    cell = StatsRecognitionCell
    # Two small aggregates: by the organisation that gave (endorsements) and by the one described on the other
    # side (endorsed, asked, owner), never by pairs of organisations (thousands of rows for nothing).
    by_giver = _in_period(select(
        cell.kind, literal_column("0"), cell.other_id, cell.territory_id, literal_column("''"), func.sum(cell.units),
        func.sum(cell.key_sum)).where(cell.kind == ENDORSEMENT, cell.units > 0), chosen).group_by(
        cell.kind, cell.other_id, cell.territory_id)
    by_subject = _in_period(select(
        cell.kind, cell.organisation_id, literal_column("0"), cell.territory_id, cell.detail, func.sum(cell.units),
        func.sum(cell.key_sum)).where(cell.units > 0), chosen).group_by(
        cell.kind, cell.organisation_id, cell.territory_id, cell.detail)
    rows = [("other", *row) for row in db.session.execute(by_giver).tuples()]
    rows += [("organisation", *row) for row in db.session.execute(by_subject).tuples()]
    completions = _completion_learners(chosen) if any(row[1] == COMPLETION for row in rows) else {}
    found: dict[str, Table] = {}
    for name, (kind, side, line) in TABLES.items():
        groups = {key: Group(key, key) for key in _lines(line, chosen)}
        learners: dict[str, list[BitMap]] = defaultdict(list)
        for source, row_kind, organisation_id, other_id, territory_id, detail, units, key_sum in rows:
            if row_kind != kind or source != side:
                continue
            subject = organisation_id if side == "organisation" else other_id
            if subject:
                if subject not in described:
                    continue
                member: Member | None = members[subject]
                contributor = subject
            elif territory_id == dimensions.territory_id and not chosen.sector and line != "status":
                member, contributor = None, -territory_id
            else:
                continue
            key = _line(member, line, detail)
            if key is None:
                continue
            group = groups.setdefault(key, Group(key, key))
            group.add(int(units), 0, 0, int(key_sum), (contributor,))
            if kind == COMPLETION:
                learners[key].append(completions.get((organisation_id, territory_id), BitMap()))
        total = Group("total", "total")
        everyone: list[BitMap] = []
        for key, group in groups.items():
            counted = len(BitMap.union(*learners[key])) if kind == COMPLETION and learners[key] else group.credentials
            group.learners_low = group.learners_high = counted
            group.enough_learners = counted >= THRESHOLD
            total.add(group.credentials, 0, 0, group.key_sum, group.organisations)
            everyone.extend(learners[key])
        counted = len(BitMap.union(*everyone)) if kind == COMPLETION and everyone else total.credentials
        total.learners_low = total.learners_high = counted
        total.enough_learners = counted >= THRESHOLD
        ordered = sorted(groups.values(), key=lambda g: (_order(line, g.key), g.key))  # never by size
        found[name] = Table(name, ordered, True, total=total, withhold_zero=True)
    return found


def _lines(line: str, chosen: Filters) -> list[str]:
    """Every line a table can have under the filters, listed whether it counts anything or not."""
    if line == "status":
        return list(REQUEST_STATUSES)
    if line == "sector":
        return [chosen.sector] if chosen.sector else [*(s.value for s in Sector), TERRITORY]
    return [*(t.value for t in OrganisationType), *([] if chosen.sector else [TERRITORY])]


def _in_period(query: Any, chosen: Filters) -> Any:
    if chosen.start is not None:
        query = query.where(StatsRecognitionCell.month >= chosen.start)
    if chosen.end is not None:
        query = query.where(StatsRecognitionCell.month <= chosen.end)
    return query


def _order(line: str, key: str) -> int:
    if line == "status":
        return REQUEST_STATUSES.index(key) if key in REQUEST_STATUSES else len(REQUEST_STATUSES)
    return 1 if key == TERRITORY else 0


def _completion_learners(chosen: Filters) -> dict[tuple[int, int], BitMap]:
    """The learners who completed pathways, per owner (organisation, territory), in the period."""
    query = _in_period(select(StatsRecognitionCell.organisation_id, StatsRecognitionCell.territory_id,
                              StatsRecognitionCell.learner_ids).where(StatsRecognitionCell.kind == COMPLETION,
                                                                      StatsRecognitionCell.units > 0), chosen)
    pieces: dict[tuple[int, int], list[BitMap]] = defaultdict(list)
    for organisation_id, territory_id, blob in binary_rows(query):
        if blob:
            pieces[(organisation_id, territory_id)].append(BitMap.deserialize(blob))
    return {owner: BitMap.union(*sets) for owner, sets in pieces.items()}


def recount() -> dict[tuple[Any, ...], tuple[int, int, int]]:
    """The cells a recount of the units gives: ``{cell key: (units, key sum, distinct learners)}``. Read only."""
    found: dict[tuple[Any, ...], list[Any]] = {}
    for unit in db.session.scalars(select(StatsRecognitionUnit)):
        key = tuple(getattr(unit, name) for name in _CELL_KEY)
        entry = found.setdefault(key, [0, 0, BitMap()])
        entry[0] += 1
        entry[1] = (entry[1] + unit.record_key) % KEY_RANGE
        if unit.learner_id:
            entry[2].add(unit.learner_id)
    return {key: (units, key_sum, len(learners)) for key, (units, key_sum, learners) in found.items()}


def rebuild() -> None:
    """Write every cell again from the units (``badgehub observatory rebuild``). Flushes."""
    db.session.execute(delete(StatsRecognitionCell))
    db.session.flush()
    for unit in db.session.scalars(select(StatsRecognitionUnit).order_by(StatsRecognitionUnit.kind,
                                                                         StatsRecognitionUnit.unit)):
        _add(unit, +1)
    db.session.flush()


def stored() -> dict[tuple[Any, ...], tuple[int, int, int]]:
    """The cells as stored, in the shape of :func:`recount` (empty cells left out)."""
    return {tuple(getattr(cell, name) for name in _CELL_KEY):
            (cell.units, cell.key_sum, len(BitMap.deserialize(cell.learner_ids)) if cell.learner_ids else 0)
            for cell in db.session.scalars(select(StatsRecognitionCell).where(StatsRecognitionCell.units > 0))}
