"""Many awards of one achievement at once (a CSV chunk, the API's batch), signed on every core.

The same rules as :func:`badgehub.issuing.service.issue_or_replay`, in three steps so that the signing, the
costly part, runs on the pool's processes and outside the write transaction:

1. :func:`plan` (reads only): each award checked, the keys already used replayed, the list's indexes drawn in
   one block among those free now, the documents built. Nothing is locked and nothing written.
2. :func:`sign` (no database): the documents signed on the pool (:mod:`badgehub.issuing.parallel`).
3. :func:`store` (the short write transaction): the organisation's list locked once, the keys and indexes
   checked again under the lock, the credentials inserted, counted and audited, the list signed once. An award
   whose key was used meanwhile is replayed; one whose index was taken meanwhile (another issuer drew it between
   the plan and the lock), or planned on a list that filled up, or from a version edited meanwhile, is issued
   again on its own by ``issue_or_replay``. So nothing is issued twice and nothing skipped, whatever ran between
   the steps; the idempotency key and the unique constraints have the last word, as for one award.

:func:`issue_many` does the three in the caller's transaction. Services flush; the caller commits.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from badgehub import events
from badgehub.accounts.holder import holder_dids_for_addresses
from badgehub.achievements.models import Achievement, AchievementVersion
from badgehub.achievements.service import achievement_definition, lock_version, require_issuable
from badgehub.credentials.errors import CredentialError
from badgehub.credentials.status_list import get_bit, status_list_entry
from badgehub.db import utcnow
from badgehub.errors import BadgeHubError
from badgehub.extensions import db
from badgehub.fields import email_key
from badgehub.issuing import parallel
from badgehub.issuing.errors import IssuingFailed, WrongOrganisation
from badgehub.issuing.models import CredentialSource, IssuedCredential, StatusList, StatusPurpose
from badgehub.issuing.service import (
    AwardInput,
    CleanAward,
    Issued,
    check_award,
    clean_idempotency_key,
    erased_idempotency_key,
    issue_or_replay,
    issuing_areas,
    new_credential,
    new_public_id,
    note_issued,
    replay_of,
    whole_seconds,
)
from badgehub.issuing.signing import Signer, build_award, material_of, stamp
from badgehub.issuing.status_lists import lock_open_list, publish_status_list, url_of
from badgehub.organisations.models import Organisation
from badgehub.organisations.service import require_good_standing

# Keys looked up per query (keeps the IN list within every database's limits).
_SLICE: Final = 500

Outcome = Issued | BadgeHubError


@dataclass(frozen=True)
class BulkAward:
    """One award of a bulk: what it says, and its idempotency key."""

    award: AwardInput
    idempotency_key: str | None = None


@dataclass
class _Planned:
    position: int
    clean: CleanAward
    key: str | None
    public_id: str
    credential_id: str
    index: int
    document: dict[str, Any]
    signed: tuple[str, str] | None = None
    code: tuple[str, bytes] | None = None  # a QR code drawn with the signature: its text and PNG


@dataclass(frozen=True)
class QrCodes:
    """QR codes to draw with a plan's signatures, one per award (a batch's e-mails each carry one): the text of
    each, from the public id of the credential the award becomes, and the scale of the PNG."""

    text_of: Callable[[str], str]
    scale: int


@dataclass
class Plan:
    """What :func:`plan` decided: outcomes already known (replays, refusals), awards to sign, and awards to
    issue one by one in :func:`store` (no open list yet, no room left in it)."""

    moment: dt.datetime
    size: int
    outcomes: dict[int, Outcome] = field(default_factory=dict)
    planned: list[_Planned] = field(default_factory=list)
    alone: list[int] = field(default_factory=list)
    status_list_id: int | None = None
    version_id: int | None = None
    definition: Any = None
    valid_until: dt.datetime | None = None
    checked: dict[int, tuple[CleanAward, str | None]] = field(default_factory=dict)

    def drawn_codes(self) -> dict[str, tuple[str, bytes]]:
        """The QR codes drawn with the signatures (:class:`QrCodes`), as (text, PNG) by the public id of the
        credential each award becomes when :func:`store` stores it as planned."""
        return {item.public_id: item.code for item in self.planned if item.code is not None}


def _existing(organisation_id: int, keys: Sequence[str]) -> dict[str, IssuedCredential]:
    """The organisation's credentials named by ``keys`` (as given or as an erased person's digest), by key."""
    wanted = {key: key for key in keys}
    wanted.update({erased_idempotency_key(key): key for key in keys})
    names = list(wanted)
    found: dict[str, IssuedCredential] = {}
    for start in range(0, len(names), _SLICE):
        for credential in db.session.scalars(select(IssuedCredential).where(
                IssuedCredential.organisation_id == organisation_id,
                IssuedCredential.idempotency_key.in_(names[start:start + _SLICE]))):
            found.setdefault(wanted[str(credential.idempotency_key)], credential)
    return found


def check_each(organisation: Organisation, awards: Sequence[tuple[str, BulkAward]]) -> list[
        tuple[Achievement | None, BadgeHubError | None]]:
    """What :func:`issue_each` would refuse, checked for every award before anything is issued (the API's batch
    answers all its invalid items at once): each award (achievement public id, award) gets its achievement (None
    when the organisation has none of that id: the error is then :class:`WrongOrganisation`) and the error that
    refuses it, or None. An award whose idempotency key names a credential already is only checked for its
    achievement (the replay decides the rest). The organisation's standing, each achievement's state and the
    areas are read once, the achievements and the keys in one query each. Reads only; raises
    :class:`~badgehub.organisations.errors.OrganisationSuspended` when an award would be refused for it."""
    wanted = sorted({public_id for public_id, _ in awards})
    achievements = {achievement.public_id: achievement for achievement in db.session.scalars(select(Achievement).where(
        Achievement.organisation_id == organisation.id, Achievement.public_id.in_(wanted)))} if wanted else {}
    keys: dict[int, str | None] = {}
    for position, (_, item) in enumerate(awards):
        try:
            keys[position] = clean_idempotency_key(item.idempotency_key)
        except BadgeHubError:
            keys[position] = None  # left to check_award's verdict below, and to plan's
    existing = _existing(organisation.id, [key for key in keys.values() if key is not None])
    new = [position for position, (public_id, _) in enumerate(awards)
           if public_id in achievements and keys[position] not in existing]
    if new:
        require_good_standing(organisation)
    areas = issuing_areas(organisation) if any(awards[p][1].award.area_id is not None for p in new) else None
    states: dict[int, BadgeHubError | None] = {}
    verdicts: list[tuple[Achievement | None, BadgeHubError | None]] = []
    for position, (public_id, item) in enumerate(awards):
        achievement = achievements.get(public_id)
        if achievement is None:
            verdicts.append((None, WrongOrganisation()))
            continue
        if keys[position] in existing:
            verdicts.append((achievement, None))
            continue
        if achievement.id not in states:
            try:
                require_issuable(achievement)
                states[achievement.id] = None
            except BadgeHubError as archived:
                states[achievement.id] = archived
        verdict = states[achievement.id]
        if verdict is None:
            try:
                check_award(organisation, achievement, item.award, standing_checked=True, areas=areas)
            except BadgeHubError as refused:
                verdict = refused
        verdicts.append((achievement, verdict))
    return verdicts


def _open_list(organisation_id: int) -> StatusList | None:
    found: StatusList | None = db.session.scalar(
        select(StatusList).where(StatusList.organisation_id == organisation_id,
                                 StatusList.purpose == StatusPurpose.REVOCATION,
                                 StatusList.allocated < StatusList.size)
        .order_by(StatusList.number).limit(1))
    return found


def _taken(status_list: StatusList, candidates: Sequence[int]) -> set[int]:
    """Those of ``candidates`` a credential holds or whose bit is set."""
    taken = {index for index in candidates if get_bit(status_list.bits, index)}
    for start in range(0, len(candidates), _SLICE):
        taken.update(db.session.scalars(select(IssuedCredential.status_index).where(
            IssuedCredential.status_list_id == status_list.id,
            IssuedCredential.status_index.in_(candidates[start:start + _SLICE]))))
    return taken


def _draw(status_list: StatusList, count: int, reserved: Collection[int] = ()) -> list[int]:
    """``count`` distinct random indexes of the list that are free now and not ``reserved`` (one query per round
    of candidates)."""
    rng = secrets.SystemRandom()
    chosen: list[int] = []
    seen: set[int] = set(reserved)
    for _ in range(16):
        if len(chosen) >= count:
            break
        candidates = [i for i in {rng.randrange(status_list.size) for _ in range(2 * (count - len(chosen)) + 4)}
                      if i not in seen]
        seen.update(candidates)
        taken = _taken(status_list, candidates)
        chosen.extend(i for i in candidates if i not in taken)
    return chosen[:count]


def plan(organisation: Organisation, achievement: Achievement, awards: Sequence[BulkAward], *, signer: Signer,
         now: dt.datetime | None = None, config: Mapping[str, Any],
         reserved: tuple[int | None, Collection[int]] = (None, ())) -> Plan:
    """Check every award and prepare the documents of those to issue (see the module docstring). Reads only.

    ``reserved`` is ``(status list id, indexes)`` of a plan not stored yet (a batch's chunk being stored while
    this one is planned): those indexes are not drawn again, nor counted as room in that list."""
    moment = whole_seconds(now or utcnow())
    result = Plan(moment=moment, size=len(awards))
    keys: dict[int, str | None] = {}
    for position, item in enumerate(awards):
        try:
            keys[position] = clean_idempotency_key(item.idempotency_key)
        except BadgeHubError as error:
            result.outcomes[position] = error
    existing = _existing(organisation.id, [key for key in keys.values() if key is not None])
    # What check_award reads for every award, read once: the organisation's standing, the achievement's state
    # and, when an award names an area, the areas the organisation may issue in.
    refused: BadgeHubError | None = None
    try:
        if achievement.organisation_id == organisation.id:
            require_good_standing(organisation)
            require_issuable(achievement)
    except BadgeHubError as error:
        refused = error
    areas = issuing_areas(organisation) if any(item.award.area_id is not None for item in awards) else None
    fresh: list[int] = []
    for position, key in keys.items():
        award = awards[position].award
        try:
            if key is not None and key in existing:
                credential = replay_of(existing[key], achievement, email_key(award.recipient_email or ""))
                result.outcomes[position] = Issued(credential, replayed=True)
                continue
            if refused is not None:
                raise refused
            fresh.append(position)
        except BadgeHubError as error:
            result.outcomes[position] = error
    # The holder DIDs of the recipients who set one, for the awards that name none: read together.
    dids = holder_dids_for_addresses([awards[position].award.recipient_email for position in fresh
                                      if awards[position].award.holder_did is None])
    for position in fresh:
        award = awards[position].award
        if award.holder_did is None:
            award = replace(award, holder_did=dids.get(email_key(award.recipient_email or "")))
        try:
            result.checked[position] = (check_award(organisation, achievement, award, now=moment,
                                                    standing_checked=True, areas=areas), keys[position])
        except BadgeHubError as error:
            result.outcomes[position] = error
    if not result.checked:
        return result
    status_list = _open_list(organisation.id)
    version = require_issuable(achievement)
    if status_list is None:
        result.alone = list(result.checked)
        return result
    try:
        result.definition = achievement_definition(version, config, creator=signer.profile)
    except CredentialError as exc:  # pragma: no cover - the achievement service keeps its text clean
        raise IssuingFailed(details={"code": exc.code}) from exc
    result.status_list_id, result.version_id = status_list.id, version.id
    result.valid_until = moment + dt.timedelta(days=version.valid_for_days) if version.valid_for_days else None
    positions = list(result.checked)
    taken = reserved[1] if reserved[0] == status_list.id else ()
    room = max(0, status_list.size - status_list.allocated - len(taken))
    indexes = _draw(status_list, min(room, len(positions)), taken)
    list_url = url_of(status_list, config)
    for position, index in zip(positions, indexes, strict=False):
        clean, key = result.checked[position]
        credential_id = f"urn:uuid:{uuid.uuid4()}"
        document = build_award(signer, credential_id=credential_id, definition=result.definition, clean=clean,
                               moment=moment, valid_until=result.valid_until,
                               status=status_list_entry(list_url, index, StatusPurpose.REVOCATION.value))
        result.planned.append(_Planned(position, clean, key, new_public_id(), credential_id, index, document))
    result.alone = positions[len(indexes):]
    return result


def sign(prepared: Plan, signer: Signer, *, config: Mapping[str, Any]) -> None:
    """Sign the planned documents on the pool (no database). When the engine refuses one, the block is left to
    :func:`store` to issue award by award, so that only the award at fault fails (as it did alone)."""
    start_signing(prepared, signer, config=config)()


def start_signing(prepared: Plan, signer: Signer, *, config: Mapping[str, Any],
                  codes: QrCodes | None = None) -> Callable[[], None]:
    """:func:`sign` started on the pool; the function returned waits for it (a batch plans its next chunk and
    stores this one meanwhile). ``codes``: QR codes drawn by the pool with the signatures
    (:meth:`Plan.drawn_codes`)."""
    if not prepared.planned:
        return lambda: None
    texts = [codes.text_of(item.public_id) for item in prepared.planned] if codes is not None else []
    results = parallel.submit_with_codes(material_of(signer), stamp(prepared.moment),
                                         [item.document for item in prepared.planned], texts,
                                         codes.scale if codes is not None else 1, config=config)

    def finish() -> None:
        if not prepared.planned or prepared.planned[0].signed is not None:
            return  # nothing to sign, or already done
        try:
            signed, pngs = results()
        except CredentialError:
            prepared.alone.extend(item.position for item in prepared.planned)
            prepared.planned = []
            return
        for item, pair in zip(prepared.planned, signed, strict=True):
            item.signed = pair
        if texts:
            for item, text, png in zip(prepared.planned, texts, pngs, strict=True):
                item.code = (text, png)

    return finish


def planned_credential(prepared: Plan, organisation: Organisation, achievement: Achievement,
                       *, source: CredentialSource | str, actor_id: int | None) -> IssuedCredential | None:
    """The credential the plan's first award becomes if :func:`store` stores it as planned (the same ids and
    signed documents), as a row outside the session, with what its e-mail reads (organisation, achievement,
    version, area) attached: so that a single award's e-mail is written before the write transaction. None
    when that award is not planned or not signed (a replay, a refusal, an award :func:`store` issues alone)."""
    item = prepared.planned[0] if prepared.planned else None
    if item is None or item.signed is None or item.position != 0:
        return None
    version = db.session.get(AchievementVersion, prepared.version_id)
    status_list = db.session.get(StatusList, prepared.status_list_id)
    if version is None or status_list is None:  # pragma: no cover - both were read by the plan
        return None
    credential = new_credential(
        organisation, achievement, version, item.clean, public_id=item.public_id, credential_id=item.credential_id,
        document_json=item.signed[0], token=item.signed[1], moment=prepared.moment,
        valid_until=prepared.valid_until, source=CredentialSource(source), batch_id=None, key=item.key,
        status_list=status_list, index=item.index, actor_id=actor_id)
    # Set as loaded values: no backref or cascade may bring this row into the session (store inserts its own).
    for name, value in (("organisation", organisation), ("achievement", achievement),
                        ("achievement_version", version), ("area", item.clean.area), ("status_list", status_list)):
        set_committed_value(credential, name, value)
    return credential


def store(prepared: Plan, organisation: Organisation, achievement: Achievement, awards: Sequence[BulkAward], *,
          signer: Signer, actor_id: int | None, source: CredentialSource | str, batch_id: int | None = None,
          config: Mapping[str, Any]) -> list[Outcome]:
    """Store the signed plan in the caller's transaction (see the module docstring) and return each award's
    outcome, in order: an :class:`~badgehub.issuing.service.Issued` or the error that refused it. Flushes."""
    origin = CredentialSource(source)
    outcomes = dict(prepared.outcomes)
    alone = list(prepared.alone)
    if prepared.status_list_id is None and len(alone) > 1 and not prepared.planned:
        # The organisation's first awards: the first opens its list, and the others are planned on it.
        first, rest = alone[0], alone[1:]
        outcomes[first] = _alone(organisation, achievement, awards[first], prepared, signer=signer,
                                 actor_id=actor_id, source=origin, batch_id=batch_id, config=config)
        others = [awards[position] for position in rest]
        second = plan(organisation, achievement, others, signer=signer, now=prepared.moment, config=config)
        if second.status_list_id is not None:
            sign(second, signer, config=config)
            done = store(second, organisation, achievement, others, signer=signer, actor_id=actor_id,
                         source=origin, batch_id=batch_id, config=config)
            outcomes.update(zip(rest, done, strict=True))
            alone = []
        else:  # pragma: no cover - the first award failed before opening the list: each goes alone
            alone = rest
    todo = [item for item in prepared.planned if item.signed is not None]
    if todo:
        status_list = lock_open_list(organisation, StatusPurpose.REVOCATION, now=prepared.moment)
        version = lock_version(require_issuable(achievement), now=prepared.moment)
        same = (status_list.id == prepared.status_list_id and version.id == prepared.version_id
                and achievement_definition(version, config, creator=signer.profile) == prepared.definition)
        if not same:
            alone.extend(item.position for item in todo)
            todo = []
        existing = _existing(organisation.id, [item.key for item in todo if item.key is not None])
        taken = _taken(status_list, [item.index for item in todo]) if todo else set()
        room = status_list.size - status_list.allocated
        fresh: list[_Planned] = []
        for item in todo:
            if item.key is not None and item.key in existing:
                try:
                    outcomes[item.position] = Issued(replay_of(existing[item.key], achievement,
                                                               item.clean.recipient_email_key), replayed=True)
                except BadgeHubError as error:
                    outcomes[item.position] = error
                continue
            if item.index in taken or room <= 0:
                alone.append(item.position)
                continue
            room -= 1
            fresh.append(item)

        def row(item: _Planned) -> IssuedCredential:
            assert item.signed is not None
            return new_credential(
                organisation, achievement, version, item.clean, public_id=item.public_id,
                credential_id=item.credential_id, document_json=item.signed[0], token=item.signed[1],
                moment=prepared.moment, valid_until=prepared.valid_until, source=origin, batch_id=batch_id,
                key=item.key, status_list=status_list, index=item.index, actor_id=actor_id)

        inserted: list[tuple[_Planned, IssuedCredential]] = []
        try:  # the rows together, in one savepoint and one flush
            with db.session.begin_nested():
                inserted = [(item, row(item)) for item in fresh]
                db.session.add_all([credential for _item, credential in inserted])
        except IntegrityError:
            # Raced by another issuer (a key or an index taken since the checks above): each row in a savepoint
            # of its own, and the raced ones settled on their own below.
            inserted = []
            for item in fresh:
                credential = row(item)
                try:
                    with db.session.begin_nested():
                        db.session.add(credential)
                except IntegrityError:
                    alone.append(item.position)
                    continue
                inserted.append((item, credential))
        stored: list[IssuedCredential] = []
        for item, credential in inserted:
            note_issued(credential, achievement, version, status_list, actor_id=actor_id, source=origin,
                        batch_id=batch_id)
            stored.append(credential)
            outcomes[item.position] = Issued(credential, replayed=False)
        if stored:
            # Signed once for the block, at the real time (see issue_or_replay).
            publish_status_list(status_list, config=config)
            db.session.flush()
            for credential in stored:
                events.announce_issued(credential)  # the observatory counts it, in this transaction
    for position in sorted(alone):
        outcomes[position] = _alone(organisation, achievement, awards[position], prepared, signer=signer,
                                    actor_id=actor_id, source=origin, batch_id=batch_id, config=config)
    return [outcomes[position] for position in range(prepared.size)]


def _alone(organisation: Organisation, achievement: Achievement, item: BulkAward, prepared: Plan, *,
           signer: Signer, actor_id: int | None, source: CredentialSource, batch_id: int | None,
           config: Mapping[str, Any]) -> Outcome:
    award = item.award
    try:
        return issue_or_replay(
            organisation=organisation, achievement=achievement, recipient_email=award.recipient_email,
            recipient_name=award.recipient_name, actor_id=actor_id, source=source, evidence_url=award.evidence_url,
            narrative=award.narrative, activity_start=award.activity_start, activity_end=award.activity_end,
            area_id=award.area_id, result=award.result, idempotency_key=item.idempotency_key,
            holder_did=award.holder_did, batch_id=batch_id, now=prepared.moment, config=config, signer=signer)
    except BadgeHubError as error:
        return error


def issue_many(organisation: Organisation, achievement: Achievement, awards: Sequence[BulkAward], *,
               signer: Signer, actor_id: int | None, source: CredentialSource | str, batch_id: int | None = None,
               now: dt.datetime | None = None, config: Mapping[str, Any]) -> list[Outcome]:
    """:func:`plan`, :func:`sign` and :func:`store` in the caller's transaction: each award's outcome, in order.
    Flushes; the caller commits."""
    prepared = plan(organisation, achievement, awards, signer=signer, now=now, config=config)
    sign(prepared, signer, config=config)
    return store(prepared, organisation, achievement, awards, signer=signer, actor_id=actor_id, source=source,
                 batch_id=batch_id, config=config)


def issue_each(organisation: Organisation, awards: Sequence[tuple[Achievement, BulkAward]], *, signer: Signer,
               actor_id: int | None, source: CredentialSource | str, config: Mapping[str, Any]) -> list[Outcome]:
    """:func:`issue_many` for awards of several achievements (the API's batch): each achievement's awards
    together, in the caller's transaction; each award's outcome, in the order given. Flushes."""
    groups: dict[int, list[int]] = {}
    for position, (achievement, _award) in enumerate(awards):
        groups.setdefault(achievement.id, []).append(position)
    outcomes: dict[int, Outcome] = {}
    for positions in groups.values():
        done = issue_many(organisation, awards[positions[0]][0], [awards[p][1] for p in positions], signer=signer,
                          actor_id=actor_id, source=source, config=config)
        outcomes.update(zip(positions, done, strict=True))
    return [outcomes[position] for position in range(len(awards))]
