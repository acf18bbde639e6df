"""Keeping the observatory's pre-aggregates exact: hooks run on issuing's signals, and a full recount.

:func:`count_issued` and :func:`credential_revoked` run on issuing's signals (:mod:`badgehub.events`, wired by
:mod:`badgehub.stats.subscribers`) in the transaction that issues or revokes, so the cells can never disagree
with the credentials: if the award rolls back, so does its count. Each hook adds or removes credentials from
their two cells (:class:`~badgehub.stats.models.StatsCell` and :class:`~badgehub.stats.models.StatsAreaCell`);
a cell's learner count changes only when the recipient holds no other live credential of that cell. Each bumps
the organisation's revision (:class:`~badgehub.stats.models.StatsOrganisation`), the version that cached live
counts are keyed by. Issuing already holds the organisation's status-list lock, so the counter row adds no new
contention.

:func:`rebuild` recounts everything from ``issued_credentials`` (migration 0012, ``badgehub observatory
rebuild``, the bench after a bulk load); :func:`recount` returns what a recount would store, for the tests that
check the pre-aggregates against a live recount.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Final
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from pyroaring import BitMap
from sqlalchemy import (
    Integer,
    and_,
    case,
    cast,
    delete,
    exists,
    extract,
    func,
    insert,
    inspect,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from badgehub.audit.service import record
from badgehub.db import utcnow
from badgehub.errors import ValidationError
from badgehub.extensions import db
from badgehub.issuing.models import ERASED_RECIPIENT_PREFIX, IssuedCredential
from badgehub.organisations.models import Organisation
from badgehub.stats import area_months, learner_years
from badgehub.stats.learner_keys import (
    learner_keys,
    rewrite_learner_keys,
    store_learner_keys,
)
from badgehub.stats.models import (
    DEFAULT_LICENCE,
    DEFAULT_LICENCE_URL,
    ObservatorySettings,
    StatsAreaCell,
    StatsCell,
    StatsLearner,
    StatsLearnerSet,
    StatsOrganisation,
    StatsRecordKey,
    StatsVersionLearnerSet,
)
from badgehub.stats.ptable import KEY_RANGE
from badgehub.territory.models import Territory
from badgehub.territory.service import require_coordinator

# The wallet's erasure replaces a person's recipient_email_key with a tombstone starting with
# ERASED_RECIPIENT_PREFIX on each credential (badgehub.wallet.erasure.blank_issued_recipients). Counted as is, one
# erased person would become as many "learners" as credentials, and could lift a group over the privacy threshold
# alone; every erased credential is therefore counted as one and the same learner (fewer learners: more is hidden,
# never less).


def learner_key() -> Any:
    """The SQL expression that identifies a learner on ``issued_credentials`` for the statistics."""
    erased = IssuedCredential.recipient_email_key.like(f"{ERASED_RECIPIENT_PREFIX}%")
    return case((erased, literal(ERASED_RECIPIENT_PREFIX)), else_=IssuedCredential.recipient_email_key)


def month_of(moment: dt.datetime) -> int:
    """``year * 100 + month`` of a moment, in UTC (the observatory's month)."""
    utc = moment.astimezone(dt.UTC) if moment.tzinfo is not None else moment
    return utc.year * 100 + utc.month


def month_bounds(month: int) -> tuple[dt.datetime, dt.datetime]:
    """The first instant of ``month`` and of the month after it, in UTC."""
    year, number = divmod(month, 100)
    start = dt.datetime(year, number, 1, tzinfo=dt.UTC)
    following = dt.datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=dt.UTC)
    return start, following


def _add_to_row(model: Any, keys: dict[str, Any], changes: dict[str, Any], first: dict[str, Any]) -> None:
    """Change a row of counts (``changes``: column expressions) or, when it is not there yet, make it with the
    values ``first``. An UPDATE first: SQLAlchemy compiles it once and caches it, where it compiles an INSERT ...
    ON CONFLICT again for every execution (a third of a millisecond, several times per award). A missing row is
    inserted with ON CONFLICT DO NOTHING; if another transaction made it meanwhile, the UPDATE runs again (it then
    waits for that transaction and sees its row)."""
    change = (update(model).where(*(getattr(model, name) == value for name, value in keys.items()))
              .values(**changes).execution_options(synchronize_session=False))
    if db.session.execute(change).rowcount:  # type: ignore[attr-defined]
        return
    builder = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    made = db.session.execute(builder(model).values(**keys, **first).on_conflict_do_nothing())
    if not made.rowcount:  # type: ignore[attr-defined]
        db.session.execute(change)


def _bump(organisation_id: int) -> None:
    now = utcnow()
    _add_to_row(StatsOrganisation, {"organisation_id": organisation_id},
                {"revision": StatsOrganisation.revision + 1, "updated_at": now},
                {"revision": 1, "updated_at": now, "record_key": new_record_key()})


def touch_organisation(organisation_id: int) -> None:
    """Bump an organisation's revision (its counted data changed: cached figures of it are out of date)."""
    _bump(organisation_id)


def stats_key(recipient_email_key: str) -> str:
    """The learner a ``recipient_email_key`` stands for in the statistics (every erased key is one learner)."""
    return ERASED_RECIPIENT_PREFIX if recipient_email_key.startswith(ERASED_RECIPIENT_PREFIX) else recipient_email_key


def key_hash(recipient_email_key: str) -> str:
    return hashlib.sha256(stats_key(recipient_email_key).encode("utf-8")).hexdigest()


def _same_learner(credential: IssuedCredential) -> Any:
    if credential.recipient_email_key.startswith(ERASED_RECIPIENT_PREFIX):
        return IssuedCredential.recipient_email_key.like(f"{ERASED_RECIPIENT_PREFIX}%")
    return IssuedCredential.recipient_email_key == credential.recipient_email_key


def _others(credential: IssuedCredential, month: int, *, same_version: bool = True, same_area: bool = False) -> bool:
    """Whether the recipient holds another live credential of the same cell (then the learner count stays)."""
    start, end = month_bounds(month)
    conditions = [IssuedCredential.id != credential.id, IssuedCredential.revoked_at.is_(None),
                  _same_learner(credential), IssuedCredential.organisation_id == credential.organisation_id,
                  IssuedCredential.issued_at >= start, IssuedCredential.issued_at < end]
    if same_version:
        conditions.append(IssuedCredential.achievement_version_id == credential.achievement_version_id)
    if same_area:
        conditions.append(IssuedCredential.area_id.is_(None) if credential.area_id is None
                          else IssuedCredential.area_id == credential.area_id)
    return bool(db.session.scalar(select(exists().where(and_(*conditions)))))


def forget_learners(recipient_email_keys: Iterable[str]) -> int:
    """Unlink the statistics from the addresses of people who erase their account (call it with the keys the
    wallet erases): their learner rows keep their ids, so the counts stay exact, but lose the hash that could
    be matched against an address. Returns how many rows were unlinked. Flushes."""
    count = 0
    for key in {k for k in recipient_email_keys if k}:
        learner = db.session.scalar(select(StatsLearner).where(StatsLearner.key_hash == key_hash(key)))
        if learner is not None:
            learner.key_hash = f"{ERASED_RECIPIENT_PREFIX}{learner.id}"
            count += 1
    db.session.flush()
    return count


def learner_ids(recipient_email_keys: Iterable[str]) -> dict[str, int]:
    """The statistics' ids of learners, created on first use: ``{recipient_email_key: id}``."""
    digests = {key: key_hash(key) for key in recipient_email_keys}
    wanted = sorted(set(digests.values()))
    if not wanted:
        return {}
    query = select(StatsLearner.key_hash, StatsLearner.id)
    found = dict(db.session.execute(query.where(StatsLearner.key_hash.in_(wanted))).tuples().all())
    missing = [digest for digest in wanted if digest not in found]
    if missing:
        dialect = db.session.get_bind().dialect.name
        builder = pg_insert if dialect == "postgresql" else sqlite_insert
        # Two organisations may award the same newcomer at once: the second insert does nothing (and returns
        # nothing: the keys of the learners inserted by the other transaction are stored by it).
        inserted = db.session.execute(
            builder(StatsLearner).values([{"key_hash": digest, "record_key": new_record_key()} for digest in missing])
            .on_conflict_do_nothing().returning(StatsLearner.id, StatsLearner.record_key)).tuples().all()
        store_learner_keys(dict(inserted))
        found.update(db.session.execute(query.where(StatsLearner.key_hash.in_(missing))).tuples().all())
    # Each was there, inserted just above, or inserted by the transaction that won the race.
    return {key: int(found[digest]) for key, digest in digests.items()}


def new_record_key() -> int:
    """A record key for the cell-key method: uniform in ``[0, KEY_RANGE)``, from the system's secure source (an
    outsider who could predict the keys could take the noise off)."""
    return secrets.randbelow(KEY_RANGE)


def _record_keys(credentials: list[IssuedCredential]) -> dict[int, int]:
    """The record keys of these credentials, drawn and stored for those that have none yet."""
    ids = [credential.id for credential in credentials]
    found = dict(db.session.execute(select(StatsRecordKey.credential_id, StatsRecordKey.record_key)
                                    .where(StatsRecordKey.credential_id.in_(ids))).tuples().all())
    missing = [{"credential_id": identifier, "record_key": new_record_key()} for identifier in ids
               if identifier not in found]
    if missing:
        db.session.execute(insert(StatsRecordKey), missing)
        found.update((row["credential_id"], row["record_key"]) for row in missing)
    return found


def _change_learner_sets(changes: dict[tuple[int, ...], set[str]], step: int,
                         identifiers: dict[str, int] | None = None) -> None:
    """Add (``step`` > 0) or remove learners from the learner sets: ``(organisation, month)`` keys are the
    sets of :class:`StatsLearnerSet`, ``(organisation, month, version)`` those of
    :class:`StatsVersionLearnerSet` (``identifiers``: the learners' ids when the caller has them)."""
    if identifiers is None:
        identifiers = learner_ids({key for keys in changes.values() for key in keys})
    for group, keys in sorted(changes.items()):
        model: Any = StatsLearnerSet if len(group) == 2 else StatsVersionLearnerSet
        # The organisation's status-list lock, held by issuing and revoking, already serialises these writes.
        row = db.session.get(model, group, with_for_update=True)
        learners = BitMap.deserialize(row.learner_ids) if row is not None else BitMap()
        for key in keys:
            if step > 0:
                learners.add(identifiers[key])
            else:
                learners.discard(identifiers[key])
        if row is None:
            names = ("organisation_id", "month", "achievement_version_id")
            db.session.add(model(**dict(zip(names, group, strict=False)), learner_ids=learners.serialize()))
        else:
            row.learner_ids = learners.serialize()
    # The years follow their months: a newcomer to a month is in the year; one who leaves a month leaves the
    # year only when no other month of it holds them (the year is recounted from its months).
    months = [group for group in changes if len(group) == 2]
    if step > 0:
        years: dict[tuple[int, int], set[int]] = defaultdict(set)
        for organisation_id, month in months:
            years[(organisation_id, month // 100)].update(identifiers[key] for key in changes[(organisation_id, month)])
        learner_years.add(years)
    else:
        learner_years.recount_years((organisation_id, month // 100) for organisation_id, month in months)


def _learner_condition(keys: set[str]) -> Any:
    plain = sorted(key for key in keys if not key.startswith(ERASED_RECIPIENT_PREFIX))
    if len(plain) < len(keys):
        return or_(IssuedCredential.recipient_email_key.in_(plain),
                   IssuedCredential.recipient_email_key.like(f"{ERASED_RECIPIENT_PREFIX}%"))
    return IssuedCredential.recipient_email_key.in_(plain)


_CELL_COLUMNS: Final = ("organisation_id", "month", "achievement_version_id", "area_id")


def count_issued(credentials: Iterable[IssuedCredential]) -> None:
    """Add newly issued credentials to their cells and learner sets, all at once (flushes).

    A cell's learners grow by the recipients of these credentials who hold no *other* live credential of the
    cell: exactly what adding them one by one gives. A credential whose savepoint was rolled back meanwhile
    is no longer in the session, and is not counted.
    """
    issued = [credential for credential in credentials if inspect(credential).persistent]
    if not issued:
        return
    db.session.flush()
    keys = _record_keys(issued)
    cells: dict[tuple[int, int, int], list[str]] = defaultdict(list)  # (organisation, month, version): learners
    area_cells: dict[tuple[int, int, int, int], list[str]] = defaultdict(list)
    key_sums: dict[tuple[int, ...], int] = defaultdict(int)
    sets: dict[tuple[int, ...], set[str]] = defaultdict(set)
    by_area_month: dict[tuple[int, int, int], list[tuple[str, int]]] = defaultdict(list)
    months: set[int] = set()
    for credential in issued:
        month = month_of(credential.issued_at)
        months.add(month)
        learner = stats_key(credential.recipient_email_key)
        cell = (credential.organisation_id, month, credential.achievement_version_id)
        cells[cell].append(learner)
        area_cells[(*cell, credential.area_id or 0)].append(learner)
        key_sums[cell] += keys[credential.id]
        key_sums[(*cell, credential.area_id or 0)] += keys[credential.id]
        sets[(credential.organisation_id, month)].add(learner)
        sets[cell].add(learner)
        by_area_month[(credential.organisation_id, month, credential.area_id or 0)].append(
            (learner, keys[credential.id]))
    # The other live credentials of the same learners, organisations and months: who was counted already.
    counted: set[tuple[int, ...]] = set()
    counted_in_area: set[tuple[int, ...]] = set()
    start, end = month_bounds(min(months))[0], month_bounds(max(months))[1]
    for organisation_id, issued_at, version_id, area_id, learner in db.session.execute(
            select(IssuedCredential.organisation_id, IssuedCredential.issued_at,
                   IssuedCredential.achievement_version_id, IssuedCredential.area_id, learner_key())
            .where(IssuedCredential.id.not_in([credential.id for credential in issued]),
                   IssuedCredential.revoked_at.is_(None),
                   IssuedCredential.organisation_id.in_({credential.organisation_id for credential in issued}),
                   IssuedCredential.issued_at >= start, IssuedCredential.issued_at < end,
                   _learner_condition({learner for learners in sets.values() for learner in learners}))):
        counted.add((organisation_id, month_of(issued_at), version_id, learner))
        counted_in_area.add((organisation_id, month_of(issued_at), version_id, area_id or 0, learner))
    for model, groups, seen in ((StatsCell, cells, counted), (StatsAreaCell, area_cells, counted_in_area)):
        names = list(_CELL_COLUMNS[: 4 if model is StatsAreaCell else 3])
        for group, learners in sorted(groups.items()):
            added = len(learners)
            new_learners = len({learner for learner in learners if (*group, learner) not in seen})
            key_sum = key_sums[group] % KEY_RANGE
            _add_to_row(model, dict(zip(names, group, strict=True)), {
                "credentials": model.credentials + added, "learners": model.learners + new_learners,
                "key_sum": (model.key_sum + key_sum) % KEY_RANGE},
                {"credentials": added, "learners": new_learners, "key_sum": key_sum})
    identifiers = learner_ids({learner for learners in sets.values() for learner in learners})
    _change_learner_sets(sets, +1, identifiers)  # adding a learner already in a set changes nothing
    area_months.add({group: [(identifiers[learner], key) for learner, key in pairs]
                     for group, pairs in by_area_month.items()})
    for organisation_id in sorted({credential.organisation_id for credential in issued}):
        _bump(organisation_id)


def credential_revoked(credential: IssuedCredential) -> None:
    """Take a credential that was just revoked out of the counts (in the revoking transaction)."""
    month = month_of(credential.issued_at)
    key = {"organisation_id": credential.organisation_id, "month": month,
           "achievement_version_id": credential.achievement_version_id}
    area_key = {**key, "area_id": credential.area_id or 0}
    record_key = _record_keys([credential])[credential.id]
    learner = stats_key(credential.recipient_email_key)
    gone: dict[tuple[int, ...], set[str]] = {}  # the learner sets the recipient leaves
    for model, keys, same_area in ((StatsCell, key, False), (StatsAreaCell, area_key, True)):
        learner_step = 0 if _others(credential, month, same_area=same_area) else -1
        if learner_step and model is StatsCell:
            gone[tuple(key.values())] = {learner}
        db.session.execute(update(model).where(*(getattr(model, name) == value for name, value in keys.items()))
                           .values(credentials=model.credentials - 1, learners=model.learners + learner_step,
                                   key_sum=(model.key_sum + (KEY_RANGE - record_key)) % KEY_RANGE))
    if gone and not _others(credential, month, same_version=False):
        gone[(credential.organisation_id, month)] = {learner}
    if gone:
        _change_learner_sets(gone, -1)
    leaving = None
    if not _others(credential, month, same_version=False, same_area=True):
        leaving = learner_ids([learner])[learner]
    area_months.remove((credential.organisation_id, month, credential.area_id or 0), record_key, leaving)
    _bump(credential.organisation_id)


def _month_expression() -> Any:
    return cast(extract("year", IssuedCredential.issued_at) * 100 + extract("month", IssuedCredential.issued_at),
                Integer)


def _recount_selects() -> tuple[Any, Any]:
    month = _month_expression().label("month")
    area = func.coalesce(IssuedCredential.area_id, 0).label("area_id")
    live = IssuedCredential.revoked_at.is_(None)
    key_sum = (func.coalesce(func.sum(StatsRecordKey.record_key), 0) % KEY_RANGE).label("key_sum")
    keyed = (IssuedCredential.__table__.outerjoin(
        StatsRecordKey, StatsRecordKey.credential_id == IssuedCredential.id))
    cells = (select(IssuedCredential.organisation_id, month, IssuedCredential.achievement_version_id,
                    func.count().label("credentials"),
                    func.count(func.distinct(learner_key())).label("learners"), key_sum)
             .select_from(keyed)
             .where(live).group_by(IssuedCredential.organisation_id, month, IssuedCredential.achievement_version_id))
    area_cells = (select(IssuedCredential.organisation_id, month, IssuedCredential.achievement_version_id, area,
                         func.count().label("credentials"),
                         func.count(func.distinct(learner_key())).label("learners"), key_sum)
                  .select_from(keyed)
                  .where(live).group_by(IssuedCredential.organisation_id, month,
                                        IssuedCredential.achievement_version_id, area))
    return cells, area_cells


Counts = dict[tuple[int, ...], tuple[int, int, int]]
LearnerSets = dict[tuple[int, ...], int]
LearnerKeys = dict[int, int]


def _live_learners() -> tuple[dict[tuple[int, ...], set[str]], dict[tuple[int, ...], set[str]]]:
    """``{(organisation, month): {learner key}}`` and ``{(organisation, month, version): {learner key}}`` of the
    live credentials, in one dictionary; and ``{(organisation, month, area): {learner key}}``."""
    month = _month_expression().label("month")
    found: dict[tuple[int, ...], set[str]] = defaultdict(set)
    by_area: dict[tuple[int, ...], set[str]] = defaultdict(set)
    for organisation_id, number, version_id, area_id, key in db.session.execute(
            select(IssuedCredential.organisation_id, month, IssuedCredential.achievement_version_id,
                   func.coalesce(IssuedCredential.area_id, 0), learner_key())
            .distinct().where(IssuedCredential.revoked_at.is_(None))):
        found[(organisation_id, number)].add(key)
        found[(organisation_id, number, version_id)].add(key)
        by_area[(organisation_id, number, area_id)].add(key)
    return found, by_area


def _area_month_sums(area_rows: Iterable[Any]) -> dict[tuple[int, int, int], tuple[int, int]]:
    """``{(organisation, month, area): (credentials, key sum)}`` from area cells ``(organisation, month, version,
    area, credentials, learners, key sum)``."""
    sums: dict[tuple[int, int, int], tuple[int, int]] = {}
    for organisation_id, month, _, area_id, credentials, _, key_sum in area_rows:
        before = sums.get((organisation_id, month, area_id), (0, 0))
        sums[(organisation_id, month, area_id)] = (before[0] + credentials, (before[1] + key_sum) % KEY_RANGE)
    return sums


def recount() -> tuple[Counts, Counts, LearnerSets, LearnerKeys]:
    """What a full recount gives: ``{(organisation, month, version): (credentials, learners, key sum)}``, the
    same with the area last in the key, ``{(organisation, month): distinct learners}`` and the same per
    ``(organisation, month, version)`` and ``(organisation, year)``, and the learners' record keys ``{learner id:
    record key}`` (keys 0 left out). Read only."""
    cells, area_cells = _recount_selects()
    live, by_area = _live_learners()
    sets = {key: len(keys) for key, keys in live.items()}
    years: dict[tuple[int, ...], set[str]] = defaultdict(set)
    for group, holders in live.items():
        if len(group) == 2:
            years[(group[0], group[1] // 100)] |= holders
    # (organisation, year) beside (organisation, month): a year (2025) is never a month (202501).
    sets.update((group, len(holders)) for group, holders in years.items() if holders)
    keys = dict(db.session.execute(select(StatsLearner.id, StatsLearner.record_key)
                                   .where(StatsLearner.record_key != 0)).tuples().all())
    area_rows = [tuple(row) for row in db.session.execute(area_cells)]
    areas: Counts = {tuple(row[:4]): (row[4], row[5], row[6]) for row in area_rows}
    areas.update({group: (credentials, len(by_area[group]), key_sum)
                  for group, (credentials, key_sum) in _area_month_sums(area_rows).items()})
    return ({tuple(row[:3]): (row[3], row[4], row[5]) for row in db.session.execute(cells)}, areas, sets, keys)


def stored() -> tuple[Counts, Counts, LearnerSets, LearnerKeys]:
    """The pre-aggregates as stored, in the shape of :func:`recount` (empty cells left out)."""
    cells = db.session.execute(select(StatsCell.organisation_id, StatsCell.month, StatsCell.achievement_version_id,
                                      StatsCell.credentials, StatsCell.learners, StatsCell.key_sum)
                               .where(StatsCell.credentials > 0))
    area_cells = db.session.execute(select(
        StatsAreaCell.organisation_id, StatsAreaCell.month, StatsAreaCell.achievement_version_id,
        StatsAreaCell.area_id, StatsAreaCell.credentials, StatsAreaCell.learners, StatsAreaCell.key_sum)
        .where(StatsAreaCell.credentials > 0))
    sets: LearnerSets = {}
    months: dict[tuple[int, int], BitMap] = {}
    for row in db.session.scalars(select(StatsLearnerSet)):
        months[(row.organisation_id, row.month)] = BitMap.deserialize(row.learner_ids)
        if months[(row.organisation_id, row.month)]:
            sets[(row.organisation_id, row.month)] = len(months[(row.organisation_id, row.month)])
    for version_row in db.session.scalars(select(StatsVersionLearnerSet)):
        size = len(BitMap.deserialize(version_row.learner_ids))
        if size:
            sets[(version_row.organisation_id, version_row.month, version_row.achievement_version_id)] = size
    sets.update(learner_years.stored(months))  # (organisation, year)
    keys = {identifier: key for identifier, key in enumerate(learner_keys()) if key}
    areas: Counts = {tuple(row[:4]): (row[4], row[5], row[6]) for row in area_cells}
    areas.update(area_months.stored())  # (organisation, month, area): three wide, never four
    return ({tuple(row[:3]): (row[3], row[4], row[5]) for row in cells}, areas, sets, keys)


def rebuild() -> None:
    """Recount every cell and learner set from the live credentials and bump every organisation's revision.
    Flushes. Live credentials without a record key (loaded outside BadgeHub) get one; existing keys are kept,
    so the published noise of unchanged figures stays the same. Cells are two ``INSERT … SELECT … GROUP BY``;
    learner sets and the organisation × month × area rows are built here (seconds for a million credentials on
    PostgreSQL)."""
    unkeyed = db.session.scalars(select(IssuedCredential.id).where(
        IssuedCredential.revoked_at.is_(None),
        ~exists().where(StatsRecordKey.credential_id == IssuedCredential.id))).all()
    for start in range(0, len(unkeyed), 10_000):
        db.session.execute(insert(StatsRecordKey), [{"credential_id": identifier, "record_key": new_record_key()}
                                                    for identifier in unkeyed[start:start + 10_000]])
    cells, area_cells = _recount_selects()
    db.session.execute(delete(StatsCell))
    db.session.execute(delete(StatsAreaCell))
    db.session.execute(delete(StatsLearnerSet))
    db.session.execute(delete(StatsVersionLearnerSet))
    db.session.execute(insert(StatsCell).from_select(
        ["organisation_id", "month", "achievement_version_id", "credentials", "learners", "key_sum"], cells))
    db.session.execute(insert(StatsAreaCell).from_select(
        ["organisation_id", "month", "achievement_version_id", "area_id", "credentials", "learners", "key_sum"],
        area_cells))
    live, by_area = _live_learners()
    ids = dict(db.session.execute(select(StatsLearner.key_hash, StatsLearner.id)).tuples().all())
    hashed = {key: key_hash(key) for keys in live.values() for key in keys}
    missing = sorted(set(hashed.values()) - set(ids))
    for start in range(0, len(missing), 10_000):
        db.session.execute(insert(StatsLearner), [{"key_hash": h, "record_key": new_record_key()}
                                                  for h in missing[start:start + 10_000]])
    if missing:
        ids = dict(db.session.execute(select(StatsLearner.key_hash, StatsLearner.id)).tuples().all())
    rewrite_learner_keys()
    names = ("organisation_id", "month", "achievement_version_id")
    bitmaps = {group: BitMap(ids[hashed[key]] for key in keys) for group, keys in live.items()}
    for model, width in ((StatsLearnerSet, 2), (StatsVersionLearnerSet, 3)):
        rows = [{**dict(zip(names, group, strict=False)), "learner_ids": learners.serialize()}
                for group, learners in bitmaps.items() if len(group) == width]
        for start in range(0, len(rows), 5_000):
            db.session.execute(insert(model), rows[start:start + 5_000])
    learner_years.rewrite({(group[0], group[1]): learners for group, learners in bitmaps.items() if len(group) == 2})
    area_rows = db.session.execute(select(
        StatsAreaCell.organisation_id, StatsAreaCell.month, StatsAreaCell.achievement_version_id,
        StatsAreaCell.area_id, StatsAreaCell.credentials, StatsAreaCell.learners, StatsAreaCell.key_sum)).tuples()
    area_months.rewrite(_area_month_sums(area_rows),
                        {group: [ids[hashed[key]] for key in keys] for group, keys in by_area.items()})
    now = utcnow()
    db.session.execute(update(StatsOrganisation).values(revision=StatsOrganisation.revision + 1, updated_at=now))
    missing_organisations = db.session.scalars(select(Organisation.id).where(
        ~exists().where(StatsOrganisation.organisation_id == Organisation.id))).all()
    if missing_organisations:
        db.session.execute(insert(StatsOrganisation), [
            {"organisation_id": identifier, "revision": 1, "updated_at": now, "record_key": new_record_key()}
            for identifier in missing_organisations])
    db.session.flush()


# ------------------------------------------------------------------------------------------- settings

LICENCE_LIMIT = 200
LICENCE_URL_LIMIT = 500


def licence_of(territory: Territory) -> tuple[str, str]:
    """The licence (name, URL) the territory publishes its figures under; Licence Ouverte 2.0 by default."""
    settings = db.session.get(ObservatorySettings, territory.id)
    if settings is None:
        return DEFAULT_LICENCE, DEFAULT_LICENCE_URL
    return settings.licence, settings.licence_url


def set_licence(territory: Territory, actor: Any, name: str, url: str) -> ObservatorySettings:
    """Set the licence of the territory's open data (coordinators only). Flushes and records an audit event.

    Raises :class:`~badgehub.territory.errors.NotCoordinator` and :class:`~badgehub.errors.ValidationError`
    with ``details["fields"]`` (``licence``: empty, too long or with control characters; ``licence_url``: not
    an http(s) address)."""
    require_coordinator(territory, actor)
    errors: dict[str, Any] = {}
    cleaned = " ".join((name or "").split())
    if not cleaned or len(cleaned) > LICENCE_LIMIT or any(ord(c) < 32 or ord(c) == 127 for c in cleaned):
        errors["licence"] = _l("Give the licence's name in 1 to %(limit)s characters.", limit=LICENCE_LIMIT)
    address = (url or "").strip()
    parts = urlsplit(address)
    if address and (parts.scheme not in ("http", "https") or not parts.netloc or len(address) > LICENCE_URL_LIMIT
                    or any(c.isspace() or ord(c) < 32 for c in address)):
        errors["licence_url"] = _l("Give a full web address starting with https:// (at most %(max)s characters).",
                                   max=LICENCE_URL_LIMIT)
    if errors:
        raise ValidationError(details={"fields": errors})
    settings = db.session.get(ObservatorySettings, territory.id)
    if settings is None:
        settings = ObservatorySettings(territory_id=territory.id)
        db.session.add(settings)
    settings.licence = cleaned
    settings.licence_url = address
    db.session.flush()
    record("observatory.licence_changed", actor_id=getattr(actor, "id", None), territory_id=territory.id,
           subject_type="territory", subject_id=territory.id, details={"licence": cleaned, "url": address})
    return settings
