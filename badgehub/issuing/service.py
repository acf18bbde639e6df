"""Issuing credentials: one award is one unit of work, signed twice and stored as issued.

The rules, written here and nowhere else (the award form, the CSV batch, claim campaigns, the API and the
CLI all call :func:`issue_credential`):

* **Who.** Callers check the person's role (``organisations.service.BADGE_ISSUERS``) before calling; this
  module checks what does not depend on the person: the organisation is in good standing (a suspended
  organisation grants nothing), the achievement is the organisation's own and is not archived.
* **What is checked** (:func:`check_award`, usable alone for a preview): a valid e-mail address, an optional
  name, an http(s) evidence URL, activity dates not in the future and in order, an area of one of the
  territories the organisation belongs to (approved or pending membership), a holder DID.
* **Atomic.** Everything an award does (status index, version lock, signatures, row, audit event) happens in
  a SAVEPOINT: if anything fails, nothing of it remains, even when the caller goes on and commits the rest of
  its work (a batch). Services flush; the caller commits.
* **Idempotent.** An ``idempotency_key`` (unique per organisation) makes a retry return the credential issued
  the first time; the same key for another achievement or recipient is :class:`IdempotencyConflict`. A
  duplicate racing the first waits for it (the status list's lock) and replays it; :func:`issue_or_replay`
  says which happened, so the caller answers 200 and mails nobody a second time.
* **The documents.** An OB 3.0 ``OpenBadgeCredential`` (VC DM 2.0) whose ``issuer`` is the organisation's
  Profile with the issuer id of :mod:`badgehub.keys.identity`, ``achievement`` the locked current version,
  ``credentialSubject.identifier`` the e-mail hashed with a fresh 128-bit salt (and ``id`` the holder's DID if
  given), ``validFrom`` = ``awardedDate`` = now, ``validUntil`` = now + the version's validity period if it has
  one, ``credentialStatus`` a revocation entry at a random index. It is signed with Data Integrity
  (``eddsa-rdfc-2022``, the active Ed25519 key) and then, proof included, as a VC-JWT (RS256, the active RSA
  key). Both are stored as issued and never rebuilt.
* **Mail** is the caller's: queued in the same transaction (:func:`badgehub.mails.awards.queue_notification`),
  delivered after the commit.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from badgehub import events, fields
from badgehub.accounts.errors import InvalidEmail, InvalidName
from badgehub.accounts.holder import holder_did_for_address
from badgehub.accounts.service import normalise_email, normalise_name
from badgehub.achievements.models import Achievement, AchievementVersion
from badgehub.achievements.service import achievement_definition, lock_version, require_issuable
from badgehub.audit.service import record
from badgehub.credentials.did import is_did
from badgehub.credentials.documents import forbidden_characters
from badgehub.credentials.errors import CredentialError
from badgehub.credentials.status_list import status_list_entry
from badgehub.db import utcnow
from badgehub.errors import BadgeHubError, ValidationError
from badgehub.extensions import db
from badgehub.fields import check, email_key, tidy_block, tidy_line, web_address
from badgehub.issuing.errors import AlreadyRevoked, IdempotencyConflict, IssuingFailed, WrongOrganisation
from badgehub.issuing.models import (
    ERASED_RECIPIENT_PREFIX,
    CredentialSource,
    IssuedCredential,
    RevocationReason,
    StatusList,
    StatusPurpose,
)
from badgehub.issuing.queries import (
    PUBLIC_ID_RE,
    STATES,
    CredentialPage,
    achievements_catalogue,
    credential_url,
    credentials_of,
    get_achievement_for,
    get_credential,
    get_credential_for,
)
from badgehub.issuing.signing import Signer, build_award, sign_document, sign_token, signer_for
from badgehub.issuing.status_lists import (
    draw_free_index,
    lock_list,
    lock_open_list,
    publish_status_list,
    set_status,
    url_of,
)
from badgehub.organisations.models import Organisation
from badgehub.organisations.service import require_good_standing
from badgehub.territory.models import Area, MembershipStatus, Territory, TerritoryMembership
from badgehub.verification.recipient import email_identifiers, email_matches

# The look-ups moved to queries.py; named here too, for the callers that know this module as ``issuing``.
__all__ = [
    "PUBLIC_ID_RE",
    "STATES",
    "CredentialPage",
    "Signer",
    "achievements_catalogue",
    "credential_url",
    "credentials_of",
    "get_achievement_for",
    "get_credential",
    "get_credential_for",
    "sign_token",
    "signer_for",
]

PUBLIC_ID_LENGTH: Final = 12
MAX_NAME: Final = 200
MAX_URL: Final = fields.MAX_URL
MAX_NARRATIVE: Final = 5000
MAX_RESULT: Final = 500
MAX_REASON: Final = 500
MAX_IDEMPOTENCY_KEY: Final = 200
MAX_DID: Final = 500
# Territory memberships whose areas an organisation may record an award in (a suspended one cannot issue).
AREA_STATUSES: Final = (MembershipStatus.APPROVED, MembershipStatus.PENDING)
# A date without a time may be "today" somewhere on Earth up to 14 hours ahead of UTC (UTC+14).
_DATE_SLACK: Final = dt.timedelta(hours=14)
log = logging.getLogger(__name__)

_INSERT_ATTEMPTS: Final = 8


# ----------------------------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class AwardInput:
    """What one award says, as typed by a person, read from a CSV row or sent to the API.

    Dates are :class:`datetime.date` (a day) or timezone-aware :class:`datetime.datetime`; text is raw.
    """

    recipient_email: str
    recipient_name: str = ""
    evidence_url: str | None = None
    narrative: str | None = None
    activity_start: dt.date | dt.datetime | None = None
    activity_end: dt.date | dt.datetime | None = None
    area_id: int | None = None
    result: str | None = None
    holder_did: str | None = None


@dataclass(frozen=True)
class CleanAward:
    """An award that passed :func:`check_award`: normalised values ready to sign."""

    recipient_email: str
    recipient_email_key: str
    recipient_name: str
    evidence_url: str | None
    narrative: str | None
    activity_start: dt.datetime | None
    activity_end: dt.datetime | None
    area: Area | None
    result: str | None
    holder_did: str | None
    # Further evidence as (address, name): the credentials a pathway badge was earned with.
    more_evidence: tuple[tuple[str, str], ...] = ()


# ----------------------------------------------------------------------------------------------- checks


def issuing_areas(organisation: Organisation) -> list[Area]:
    """The areas an award of ``organisation`` may be recorded in: those of the territories it belongs to
    (approved or pending membership), by territory then area name."""
    return list(db.session.scalars(
        select(Area).join(Territory, Territory.id == Area.territory_id)
        .join(TerritoryMembership, TerritoryMembership.territory_id == Territory.id)
        .where(TerritoryMembership.organisation_id == organisation.id,
               TerritoryMembership.status.in_(AREA_STATUSES))
        .options(contains_eager(Area.territory))
        .order_by(Territory.name, Area.name)))


def _moment(value: object, name: str, now: dt.datetime, errors: dict[str, Any]) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            errors[name] = _l("Give the date with a time zone.")
            return None
        moment = value.astimezone(dt.UTC)
        if moment > now:
            errors[name] = _l("This date is in the future.")
        return moment
    if isinstance(value, dt.date):
        if value > (now + _DATE_SLACK).date():
            errors[name] = _l("This date is in the future.")
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    errors[name] = _l("This is not a date.")
    return None


def check_award(organisation: Organisation, achievement: Achievement, award: AwardInput, *,
                now: dt.datetime | None = None, standing_checked: bool = False,
                areas: Sequence[Area] | None = None) -> CleanAward:
    """Check an award without issuing it and return its normalised values (the batch preview calls this).

    Raises :class:`~badgehub.organisations.errors.OrganisationSuspended` for a suspended organisation,
    :class:`WrongOrganisation` (404) for another organisation's achievement,
    :class:`~badgehub.achievements.errors.AchievementArchived` for an archived one, and
    :class:`~badgehub.errors.ValidationError` whose ``details["fields"]`` maps each wrong field
    (``recipient_email``, ``recipient_name``, ``evidence_url``, ``narrative``, ``activity_start``,
    ``activity_end``, ``area_id``, ``result``, ``holder_did``) to its message.

    Many awards at once (a batch): ``standing_checked`` when the caller has just checked the organisation's
    standing and the achievement (once for all), ``areas`` the organisation's :func:`issuing_areas` (read once).
    """
    moment = now or utcnow()
    if achievement.organisation_id != organisation.id:
        raise WrongOrganisation()
    if not standing_checked:
        require_good_standing(organisation)
        require_issuable(achievement)
    errors: dict[str, Any] = {}
    email = ""
    try:
        email = email_key(normalise_email(award.recipient_email or ""))
    except InvalidEmail as exc:
        errors["recipient_email"] = exc.message
    name = ""
    try:
        name = normalise_name(award.recipient_name or "", required=False)
    except InvalidName:
        errors["recipient_name"] = _l("Give a name of at most %(max)s characters, without control characters.",
                                      max=MAX_NAME)
    evidence_url = check(errors, "evidence_url", web_address, award.evidence_url)
    narrative = tidy_block(award.narrative) or None
    if narrative is not None and len(narrative) > MAX_NARRATIVE:
        errors["narrative"] = _l("At most %(max)s characters.", max=MAX_NARRATIVE)
    result = tidy_line(award.result) or None
    if result is not None and len(result) > MAX_RESULT:
        errors["result"] = _l("At most %(max)s characters.", max=MAX_RESULT)
    start = _moment(award.activity_start, "activity_start", moment, errors)
    end = _moment(award.activity_end, "activity_end", moment, errors)
    if start is not None and end is not None and end < start and "activity_end" not in errors:
        errors["activity_end"] = _l("The activity cannot end before it starts.")
    area = None
    if award.area_id is not None:
        choices = areas if areas is not None else issuing_areas(organisation)
        area = next((a for a in choices if a.id == award.area_id), None)
        if area is None:
            errors["area_id"] = _l("Choose an area of a territory your organisation belongs to.")
    did = (award.holder_did or "").strip() or None
    if did is not None and (len(did) > MAX_DID or not is_did(did) or any(ch.isspace() for ch in did)):
        errors["holder_did"] = _l("This is not a DID (it starts with did:).")
    if errors:
        raise ValidationError(details={"fields": errors})
    return CleanAward(email, email_key(email), name, evidence_url, narrative, start, end, area, result, did)


def _checked_evidence(items: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    # Addresses the platform made (its own pages, perhaps on a host without a dot, like localhost): an http(s)
    # address of one line within the length, not the typed-address rule.
    checked = tuple((str(url), tidy_line(name) or "") for url, name in items)
    if any(not url.startswith(("https://", "http://")) or len(url) > MAX_URL or tidy_line(url) != url
           for url, _name in checked):
        raise ValidationError(details={"fields": {"more_evidence": _l("This is not a web address.")}})
    return checked


def clean_idempotency_key(value: str | None) -> str | None:
    key = (value or "").strip()
    if not key:
        return None
    if len(key) > MAX_IDEMPOTENCY_KEY or forbidden_characters(key):
        raise ValidationError(_l("The idempotency key must be 1 to %(max)s characters.", max=MAX_IDEMPOTENCY_KEY),
                              details={"field": "idempotency_key"})
    return key


ERASED_KEY_PREFIX = "erased-key:"


def erased_idempotency_key(key: str) -> str:
    """What an idempotency key that names an erased person becomes: a digest, so the key no longer says who, and
    the same award asked again with the same key still finds its credential (see :func:`by_idempotency_key`)."""
    return ERASED_KEY_PREFIX + hashlib.sha256(key.encode("utf-8")).hexdigest()[:48]


def by_idempotency_key(organisation_id: int, key: str) -> IssuedCredential | None:
    found: IssuedCredential | None = db.session.scalar(select(IssuedCredential).where(
        IssuedCredential.organisation_id == organisation_id,
        IssuedCredential.idempotency_key.in_((key, erased_idempotency_key(key)))).limit(1))
    return found


def _same_recipient(existing: IssuedCredential, recipient_key: str) -> bool:
    if existing.recipient_email_key == recipient_key:
        return True
    if not existing.recipient_email_key.startswith(ERASED_RECIPIENT_PREFIX) or not recipient_key:
        return False
    # The recipient erased their account since: only the salted hash in the signed document still knows them.
    # The same award asked again is this one (issuing it anew would bring back what they had erased).
    subject = json.loads(existing.document_json).get("credentialSubject")
    identifiers = email_identifiers(subject) if isinstance(subject, dict) else []
    return any(email_matches(identifier, recipient_key) for identifier in identifiers)


def replay_of(existing: IssuedCredential, achievement: Achievement, recipient_key: str) -> IssuedCredential:
    if existing.achievement_id != achievement.id or not _same_recipient(existing, recipient_key):
        raise IdempotencyConflict(details={"public_id": existing.public_id})
    return existing


# ----------------------------------------------------------------------------------------------- issuing


def new_public_id() -> str:
    """A fresh credential public id: 12 lower-case base32 characters (60 random bits)."""
    return base64.b32encode(secrets.token_bytes(8)).decode("ascii").lower()[:PUBLIC_ID_LENGTH]


def whole_seconds(moment: dt.datetime) -> dt.datetime:
    # What the documents say (whole seconds, UTC) is what the columns say.
    return moment.astimezone(dt.UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Issued:
    """What :func:`issue_or_replay` did: ``replayed`` when an earlier call (perhaps a concurrent one) had issued
    ``credential`` with the same idempotency key, so nothing new was signed and nobody is to be mailed."""

    credential: IssuedCredential
    replayed: bool


def issue_credential(**award: Any) -> IssuedCredential:
    """Issue one credential and return it (a replay when the idempotency key was used); see
    :func:`issue_or_replay`, which takes the same arguments and raises the same errors."""
    return issue_or_replay(**award).credential


def issue_or_replay(
    *,
    organisation: Organisation,
    achievement: Achievement,
    recipient_email: str,
    recipient_name: str,
    actor_id: int | None,
    source: CredentialSource | str,
    evidence_url: str | None = None,
    narrative: str | None = None,
    activity_start: dt.date | dt.datetime | None = None,
    activity_end: dt.date | dt.datetime | None = None,
    area_id: int | None = None,
    result: str | None = None,
    idempotency_key: str | None = None,
    holder_did: str | None = None,
    batch_id: int | None = None,
    now: dt.datetime | None = None,
    config: Mapping[str, Any],
    signer: Signer | None = None,
    more_evidence: tuple[tuple[str, str], ...] = (),
) -> Issued:
    """Issue one credential of ``achievement`` to ``recipient_email`` (flushed, not committed), or replay the
    one an idempotency key already names, and say which.

    See the module docstring for the rules. ``source`` is a :class:`CredentialSource` (or its value);
    ``batch_id`` ties the award to a CSV batch or claim campaign; ``now`` dates the award (tests and the
    demo issue in the past); ``config`` is the app's settings; ``signer`` (:func:`signer_for`) spares a batch
    the decryption of the keys for every row; ``more_evidence`` adds ``Evidence`` items (address, name) that
    the platform made (a pathway badge lists the pages of the credentials it was earned with). Queue the e-mail
    in the same transaction with :func:`badgehub.mails.awards.queue_notification` and deliver it after the
    commit.

    Raises what :func:`check_award` raises, :class:`IdempotencyConflict` (409) for a key already used for
    another award, ``ValidationError`` for a malformed key, the key service's errors (no active key, KEK
    missing or wrong), and :class:`IssuingFailed` when the credential engine refuses the document. Whatever is
    raised, nothing of this award remains in the session.
    """
    moment = whole_seconds(now or utcnow())
    origin = CredentialSource(source)
    key = clean_idempotency_key(idempotency_key)
    if key is not None:
        existing = by_idempotency_key(organisation.id, key)
        if existing is not None:
            return Issued(replay_of(existing, achievement, email_key(recipient_email or "")), replayed=True)
    if holder_did is None:
        # A learner who added a holder DID to their wallet is named by it in what is issued to them from now on.
        holder_did = holder_did_for_address(recipient_email or "")
    clean = check_award(organisation, achievement, AwardInput(
        recipient_email=recipient_email, recipient_name=recipient_name, evidence_url=evidence_url,
        narrative=narrative, activity_start=activity_start, activity_end=activity_end, area_id=area_id,
        result=result, holder_did=holder_did), now=moment)
    if more_evidence:
        clean = replace(clean, more_evidence=_checked_evidence(more_evidence))
    if signer is not None and signer.organisation_id != organisation.id:
        raise ValueError("the signer belongs to another organisation")
    with db.session.begin_nested():
        return _issue(organisation, achievement, clean, actor_id=actor_id, source=origin, key=key,
                      batch_id=batch_id, moment=moment, config=config, signer=signer)


def _issue(organisation: Organisation, achievement: Achievement, clean: CleanAward, *, actor_id: int | None,
           source: CredentialSource, key: str | None, batch_id: int | None, moment: dt.datetime,
           config: Mapping[str, Any], signer: Signer | None) -> Issued:
    # The list lock comes first: it also serialises two awards racing with the same idempotency key, so the
    # second sees the first's credential here once the first has committed.
    status_list = lock_open_list(organisation, StatusPurpose.REVOCATION, now=moment)
    if key is not None:
        existing = by_idempotency_key(organisation.id, key)
        if existing is not None:
            return Issued(replay_of(existing, achievement, clean.recipient_email_key), replayed=True)
    version = lock_version(require_issuable(achievement), now=moment)
    active_signer = signer or signer_for(organisation, config)
    try:
        definition = achievement_definition(version, config, creator=active_signer.profile)
    except CredentialError as exc:  # pragma: no cover - the achievement service keeps its text clean
        raise IssuingFailed(details={"code": exc.code}) from exc
    valid_until = moment + dt.timedelta(days=version.valid_for_days) if version.valid_for_days else None
    list_url = url_of(status_list, config)
    for _ in range(_INSERT_ATTEMPTS):
        index = draw_free_index(status_list)
        public_id = new_public_id()  # 60 random bits; the unique constraint has the last word (retry below)
        credential_id = f"urn:uuid:{uuid.uuid4()}"
        document = build_award(active_signer, credential_id=credential_id, definition=definition, clean=clean,
                               moment=moment, valid_until=valid_until,
                               status=status_list_entry(list_url, index, StatusPurpose.REVOCATION.value))
        document_json, token = sign_document(document, active_signer, moment)
        credential = new_credential(organisation, achievement, version, clean, public_id=public_id,
                                    credential_id=credential_id, document_json=document_json, token=token,
                                    moment=moment, valid_until=valid_until, source=source, batch_id=batch_id, key=key,
                                    status_list=status_list, index=index, actor_id=actor_id)
        try:
            with db.session.begin_nested():
                db.session.add(credential)
        except IntegrityError:
            # Another transaction took this index, id or key between our look-up and our insert.
            if key is not None and (existing := by_idempotency_key(organisation.id, key)) is not None:
                return Issued(replay_of(existing, achievement, clean.recipient_email_key), replayed=True)
            continue
        note_issued(credential, achievement, version, status_list, actor_id=actor_id, source=source,
                    batch_id=batch_id)
        # A list opened just now (or left stale) is signed in this transaction, so that no reader has to:
        # at the real time, not the award's (an award may be dated in the past).
        publish_status_list(status_list, config=config)
        db.session.flush()
        events.announce_issued(credential)  # the observatory counts it, in this transaction
        return Issued(credential, replayed=False)
    raise IssuingFailed()  # pragma: no cover - eight lost races in a row


def new_credential(organisation: Organisation, achievement: Achievement, version: AchievementVersion,
                   clean: CleanAward, *, public_id: str, credential_id: str, document_json: str, token: str,
                   moment: dt.datetime, valid_until: dt.datetime | None, source: CredentialSource,
                   batch_id: int | None, key: str | None, status_list: StatusList, index: int,
                   actor_id: int | None) -> IssuedCredential:
    """The row of a credential just signed (not added to the session)."""
    return IssuedCredential(
        public_id=public_id, credential_id=credential_id, organisation_id=organisation.id,
        achievement_id=achievement.id, achievement_version_id=version.id,
        recipient_email=clean.recipient_email, recipient_email_key=clean.recipient_email_key,
        recipient_name=clean.recipient_name, holder_did=clean.holder_did, document_json=document_json,
        vc_jwt=token, issued_at=moment, valid_from=moment, valid_until=valid_until, awarded_date=moment,
        activity_start=clean.activity_start, activity_end=clean.activity_end,
        area_id=clean.area.id if clean.area is not None else None, evidence_url=clean.evidence_url,
        narrative=clean.narrative, result=clean.result, source=source, batch_id=batch_id,
        idempotency_key=key, status_list_id=status_list.id, status_index=index, created_by_id=actor_id)


def note_issued(credential: IssuedCredential, achievement: Achievement, version: AchievementVersion,
                status_list: StatusList, *, actor_id: int | None, source: CredentialSource,
                batch_id: int | None) -> None:
    """What every credential stored brings along, in its transaction: its index counted on the list and the
    audit event. (The caller announces it with :func:`badgehub.events.announce_issued` once flushed.)"""
    status_list.allocated += 1
    record("credential.issued", actor_id=actor_id, organisation_id=credential.organisation_id,
           subject_type="credential", subject_id=credential.id,
           details={"public_id": credential.public_id, "achievement": achievement.public_id,
                    "version": version.number, "source": source.value, "batch_id": batch_id,
                    "status_list": status_list.number, "status_index": credential.status_index})


# ------------------------------------------------------------------------------------------- revocation


def _note(value: str | None) -> str | None:
    note = tidy_line(value)
    if len(note) > MAX_REASON:
        message = _l("Write the note in at most %(max)s characters.", max=MAX_REASON)
        raise ValidationError(message, details={"fields": {"note": message}})
    return note or None


def _public_reason(value: RevocationReason | str) -> RevocationReason:
    try:
        return RevocationReason(value)
    except ValueError:
        message = _l("Choose the reason from the list.")
        raise ValidationError(message, details={"fields": {"reason": message}}) from None


def revoke_credential(credential: IssuedCredential, *, reason: RevocationReason | str = RevocationReason.OTHER,
                      note: str | None = None, actor_id: int | None, config: Mapping[str, Any],
                      now: dt.datetime | None = None) -> IssuedCredential:
    """Revoke ``credential`` for good: its bit is set in its status list (whose version grows) and the list is
    signed again in the same transaction. ``reason`` is one of :class:`RevocationReason` and is public; ``note``
    is the issuer's own words, optional and never published. Allowed while the organisation is suspended
    (revoking only takes away). Callers check the person's role. Flushes.

    Raises :class:`~badgehub.errors.ValidationError` for a reason not in the list or an over-long note, and
    :class:`AlreadyRevoked` (409) for a credential already revoked.
    """
    public_reason, cleaned = _public_reason(reason), _note(note)
    moment = now or utcnow()
    with db.session.begin_nested():
        # Both rows under lock (PostgreSQL): two revocations of one list never lose a bit, and one credential
        # is revoked once.
        status_list = lock_list(credential.status_list_id)
        db.session.scalars(select(IssuedCredential).where(IssuedCredential.id == credential.id)
                           .with_for_update().execution_options(populate_existing=True)).one()
        if credential.revoked_at is not None:
            raise AlreadyRevoked()
        set_status(status_list, credential.status_index, True, now=moment)
        # Signed again by the revocation itself: the next read, in any process, serves the new bit. Without an
        # active key (compromised, not replaced yet) the revocation still stands; the rotation signs the list.
        try:
            publish_status_list(status_list, config=config)
        except BadgeHubError:
            log.warning("status list %s of %s revoked into but not signed: no usable key", status_list.number,
                        credential.organisation_id)
        credential.revoked_at = moment
        credential.revocation_reason = public_reason
        credential.revocation_note = cleaned
        credential.revoked_by_id = actor_id
        events.credential_revoked.send(credential=credential)
        record("credential.revoked", actor_id=actor_id, organisation_id=credential.organisation_id,
               subject_type="credential", subject_id=credential.id,
               details={"public_id": credential.public_id, "status_list": status_list.number,
                        "status_index": credential.status_index})
    db.session.flush()
    return credential
