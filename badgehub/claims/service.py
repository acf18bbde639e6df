"""Claim campaigns: staff offer one badge during an event; participants claim it with a confirmed e-mail address.

The rules, written here and nowhere else (the staff pages, the public pages and the demo call these
functions):

* **Creating.** Owners and issuers (callers check the role) of an organisation in good standing create a
  campaign for one of its own achievements that is not archived, with a window (``opens_at`` before
  ``closes_at``, the end in the future, at most :data:`MAX_WINDOW` long) and an optional cap of at least one.
  Each campaign gets a :data:`SHORT_CODE_LENGTH`-character short code from :data:`SHORT_CODE_ALPHABET`
  (no 0/O, 1/I/L: it is read on a poster and typed on a phone).
* **Claiming.** While the campaign is open (window started, not ended, not closed by staff, cap not reached),
  anyone may give an e-mail address. One claim per campaign and address (the accounts' ``email_key``):
  asking again for a pending claim sends a new link (the previous one stops working); asking again for a
  confirmed claim sends nothing new but the e-mail says it is already claimed. The caller answers every
  request with the same page and sends one e-mail (:class:`ClaimRequest`), so the form never tells whether
  an address has claimed.
* **Confirming.** The e-mailed link holds a ``secrets.token_urlsafe(32)`` secret, only its SHA-256 is stored;
  it works for :data:`CLAIM_LINK_LIFETIME`, also after the end of the window (someone who scanned the poster
  at the last minute is not turned away), but not after staff closed the campaign early. Confirming takes
  the campaign's row lock, counts the confirmed claims under it and refuses beyond the cap, then issues the
  credential through :func:`badgehub.issuing.service.issue_credential` (source ``claim``, idempotency key
  ``claim:<campaign id>:<email key>``). Following the link again shows the credential; it never issues twice.
* **Erasure.** :func:`erase_personal_data` blanks the addresses and names of an erased person's claims.

Services flush and never commit; they send no mail (the caller does, after its commit).
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from badgehub.accounts.service import normalise_email, normalise_name
from badgehub.achievements.models import Achievement
from badgehub.achievements.service import require_issuable
from badgehub.audit.service import record
from badgehub.claims.errors import (
    CampaignAlreadyClosed,
    CampaignClosed,
    CampaignFull,
    CampaignNotFound,
    CampaignNotOpen,
    CampaignPaused,
    ClaimLinkExpired,
    InvalidClaimLink,
)
from badgehub.claims.models import Claim, ClaimCampaign, ClaimState
from badgehub.db import utcnow
from badgehub.errors import ValidationError
from badgehub.extensions import db
from badgehub.fields import block, check, email_key, line
from badgehub.issuing.models import CredentialSource, IssuedCredential
from badgehub.issuing.service import get_achievement_for, issue_credential
from badgehub.keys.identity import base_url_of
from badgehub.organisations.models import Organisation
from badgehub.organisations.service import can_act, require_good_standing

# 8 digits and 23 letters: no 0/O, no 1/I/L, which look alike on a poster and on a phone's keyboard.
SHORT_CODE_ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
SHORT_CODE_LENGTH: Final = 6
_SHORT_CODE_RE: Final = re.compile(f"[{SHORT_CODE_ALPHABET}]{{{SHORT_CODE_LENGTH}}}")
_CODE_ATTEMPTS: Final = 8
MAX_TITLE: Final = 200
MAX_NOTES: Final = 2000
MAX_CAP: Final = 100_000
MAX_WINDOW: Final = dt.timedelta(days=366)
CLAIM_LINK_LIFETIME: Final = dt.timedelta(hours=24)
TOKEN_BYTES: Final = 32
# token_urlsafe(32) is 43 characters; anything much longer is not ours and is refused before hashing.
TOKEN_MAX_CHARS: Final = 100


class CampaignStatus(enum.StrEnum):
    """Where a campaign stands at a given moment (for pages; the rules use :func:`require_open`)."""

    SCHEDULED = "scheduled"  # the window has not started
    OPEN = "open"
    FULL = "full"  # the cap is reached
    PAUSED = "paused"  # the organisation is suspended or the badge archived: nothing can be issued
    ENDED = "ended"  # the window is over
    CLOSED = "closed"  # closed early by staff


@dataclass(frozen=True)
class CampaignFields:
    """What staff type to create a campaign; datetimes are timezone-aware (the page converts)."""

    achievement_public_id: str
    title: str = ""
    notes: str = ""
    opens_at: dt.datetime | None = None
    closes_at: dt.datetime | None = None
    max_claims: int | None = None


@dataclass(frozen=True)
class ClaimRequest:
    """The answer to "send me the link": the address as normalised and the claim. ``token`` is the secret of a
    new link to e-mail, or None when the claim was already confirmed (the e-mail then says so). The caller
    sends exactly one e-mail to ``address`` and shows the same page either way."""

    address: str
    claim: Claim
    token: str | None

    @property
    def already_claimed(self) -> bool:
        return self.token is None


@dataclass(frozen=True)
class ConfirmedClaim:
    """A confirmed claim and its credential; ``issued_now`` is False when the link had already been used."""

    claim: Claim
    credential: IssuedCredential | None
    issued_now: bool


# ------------------------------------------------------------------------------------------------ codes


def new_short_code() -> str:
    """A fresh random short code (:data:`SHORT_CODE_LENGTH` characters of :data:`SHORT_CODE_ALPHABET`)."""
    return "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(SHORT_CODE_LENGTH))


def normalise_short_code(typed: str) -> str | None:
    """The short code a person meant, or None when it cannot be one: case, spaces and dashes do not matter."""
    code = re.sub(r"[\s\-_.]", "", typed or "").upper()
    return code if _SHORT_CODE_RE.fullmatch(code) else None


def claim_url(campaign: ClaimCampaign, config: Mapping[str, Any]) -> str:
    """The public address printed on the poster: ``<BASE_URL>/claim/<short_code>`` (``config``: the app's)."""
    return f"{base_url_of(config)}/claim/{campaign.short_code}"


# ------------------------------------------------------------------------------------------------ staff


def _clean_text(value: str, field: str, limit: int, errors: dict[str, Any], *, multiline: bool = False) -> str:
    # The shared rules (fields.line / fields.block); a refusal is recorded against ``field``.
    return check(errors, field, block if multiline else line, value, limit) or ""


def _check_window(opens_at: dt.datetime, closes_at: dt.datetime | None, now: dt.datetime,
                  errors: dict[str, Any]) -> None:
    if closes_at is None:
        errors["closes_at"] = _l("Say when the campaign ends.")
        return
    if opens_at.tzinfo is None or closes_at.tzinfo is None:
        raise ValueError("campaign windows are timezone-aware")
    if closes_at <= now:
        errors["closes_at"] = _l("The end must be in the future.")
    elif closes_at <= opens_at:
        errors["closes_at"] = _l("The end must come after the start.")
    elif closes_at - opens_at > MAX_WINDOW:
        errors["closes_at"] = _l("A campaign lasts at most %(days)s days.", days=MAX_WINDOW.days)


def create_campaign(organisation: Organisation, actor: Any, fields: CampaignFields, *,
                    now: dt.datetime | None = None) -> ClaimCampaign:
    """Create a claim campaign of ``organisation`` (flushed) and record ``claim_campaign.created``.

    Callers check that ``actor`` is an owner or issuer. Raises ``OrganisationSuspended`` (403) for a suspended
    organisation, ``WrongOrganisation`` (404) for an achievement that is not the organisation's,
    ``AchievementArchived`` for an archived one, and ``ValidationError`` with ``details["fields"]`` (title,
    notes, opens_at, closes_at, max_claims) for the rest.
    """
    moment = now or utcnow()
    require_good_standing(organisation)
    achievement = get_achievement_for(organisation, fields.achievement_public_id)
    version = require_issuable(achievement)
    errors: dict[str, Any] = {}
    title = _clean_text(fields.title, "title", MAX_TITLE, errors) or version.name
    notes = _clean_text(fields.notes, "notes", MAX_NOTES, errors, multiline=True)
    opens_at = (fields.opens_at or moment).replace(microsecond=0)
    closes_at = fields.closes_at.replace(microsecond=0) if fields.closes_at is not None else None
    _check_window(opens_at, closes_at, moment, errors)
    if fields.max_claims is not None and not 1 <= fields.max_claims <= MAX_CAP:
        errors["max_claims"] = _l("The cap is a whole number from 1 to %(max)s, or empty for no cap.", max=MAX_CAP)
    if errors:
        raise ValidationError(details={"fields": errors})
    assert closes_at is not None
    actor_id = getattr(actor, "id", None)
    for _ in range(_CODE_ATTEMPTS):
        campaign = ClaimCampaign(
            organisation_id=organisation.id, achievement_id=achievement.id, title=title, notes=notes,
            short_code=new_short_code(), opens_at=opens_at, closes_at=closes_at, max_claims=fields.max_claims,
            claimed_count=0, created_by_id=actor_id, created_at=moment)
        try:
            with db.session.begin_nested():
                db.session.add(campaign)
        except IntegrityError:
            continue  # the code was taken (about one chance in a billion per campaign)
        record("claim_campaign.created", actor_id=actor_id, organisation_id=organisation.id,
               subject_type="claim_campaign", subject_id=campaign.id,
               details={"short_code": campaign.short_code, "achievement": achievement.public_id,
                        "opens_at": opens_at.isoformat(), "closes_at": closes_at.isoformat(),
                        "max_claims": fields.max_claims})
        db.session.flush()
        return campaign
    raise RuntimeError("no free short code")  # pragma: no cover - 31**6 codes


def close_campaign(campaign: ClaimCampaign, actor: Any, *, now: dt.datetime | None = None) -> ClaimCampaign:
    """Close ``campaign`` now (links already sent stop working too) and record ``claim_campaign.closed``.

    Allowed while the organisation is suspended (closing only takes away). Callers check the role. Raises
    :class:`CampaignAlreadyClosed` (409) when it was closed already or its window is over.
    """
    moment = now or utcnow()
    locked = _lock_campaign(campaign.id)
    if locked.closed_at is not None or locked.closes_at <= moment:
        raise CampaignAlreadyClosed()
    actor_id = getattr(actor, "id", None)
    locked.closed_at = moment
    locked.closed_by_id = actor_id
    record("claim_campaign.closed", actor_id=actor_id, organisation_id=locked.organisation_id,
           subject_type="claim_campaign", subject_id=locked.id,
           details={"short_code": locked.short_code, "claimed": locked.claimed_count})
    db.session.flush()
    return locked


def get_campaign_for(organisation: Organisation, campaign_id: int) -> ClaimCampaign:
    """The organisation's campaign ``campaign_id``; another organisation's is :class:`CampaignNotFound` too."""
    campaign: ClaimCampaign | None = db.session.get(ClaimCampaign, campaign_id)
    if campaign is None or campaign.organisation_id != organisation.id:
        raise CampaignNotFound()
    return campaign


def campaigns_of(organisation: Organisation) -> Sequence[ClaimCampaign]:
    """The organisation's campaigns, newest first, achievements loaded."""
    return db.session.scalars(
        select(ClaimCampaign).where(ClaimCampaign.organisation_id == organisation.id)
        .options(selectinload(ClaimCampaign.achievement).selectinload(Achievement.current_version))
        .order_by(ClaimCampaign.created_at.desc(), ClaimCampaign.id.desc())).all()


def pending_counts(campaigns: Sequence[ClaimCampaign]) -> dict[int, int]:
    """How many claims of each campaign wait for their confirmation, by campaign id."""
    ids = [campaign.id for campaign in campaigns]
    if not ids:
        return {}
    rows = db.session.execute(
        select(Claim.campaign_id, func.count(Claim.id))
        .where(Claim.campaign_id.in_(ids), Claim.state == ClaimState.PENDING).group_by(Claim.campaign_id))
    return {campaign_id: count for campaign_id, count in rows}


def claims_of(campaign: ClaimCampaign, *, limit: int | None = None) -> Sequence[Claim]:
    """The campaign's claims for its staff: confirmed first (newest first), then pending ones; at most
    ``limit`` of them."""
    return db.session.scalars(
        select(Claim).where(Claim.campaign_id == campaign.id).options(selectinload(Claim.credential))
        .order_by(Claim.state, Claim.confirmed_at.desc(), Claim.requested_at.desc(), Claim.id.desc())
        .limit(limit)).all()


# ----------------------------------------------------------------------------------------------- public


def find_campaign(typed_code: str) -> ClaimCampaign:
    """The campaign of a short code as typed (any case, spaces or dashes). Raises :class:`CampaignNotFound`."""
    code = normalise_short_code(typed_code)
    if code is None:
        raise CampaignNotFound()
    campaign: ClaimCampaign | None = db.session.scalar(select(ClaimCampaign).where(ClaimCampaign.short_code == code))
    if campaign is None:
        raise CampaignNotFound()
    return campaign


def campaign_status(campaign: ClaimCampaign, now: dt.datetime | None = None) -> CampaignStatus:
    """Where ``campaign`` stands at ``now``: closed early, ended, paused (suspended organisation or archived
    badge), not started, full, or open."""
    moment = now or utcnow()
    if campaign.closed_at is not None:
        return CampaignStatus.CLOSED
    if campaign.closes_at <= moment:
        return CampaignStatus.ENDED
    if campaign.achievement.archived_at is not None or not can_act(campaign.organisation):
        return CampaignStatus.PAUSED
    if campaign.opens_at > moment:
        return CampaignStatus.SCHEDULED
    if campaign.max_claims is not None and campaign.claimed_count >= campaign.max_claims:
        return CampaignStatus.FULL
    return CampaignStatus.OPEN


_UNAVAILABLE: Final = {CampaignStatus.CLOSED: CampaignClosed, CampaignStatus.ENDED: CampaignClosed,
                       CampaignStatus.SCHEDULED: CampaignNotOpen, CampaignStatus.FULL: CampaignFull,
                       CampaignStatus.PAUSED: CampaignPaused}


def require_open(campaign: ClaimCampaign, now: dt.datetime | None = None) -> None:
    """Raise :class:`CampaignClosed`, :class:`CampaignNotOpen`, :class:`CampaignFull` or :class:`CampaignPaused`
    unless it takes claims."""
    status = campaign_status(campaign, now)
    if status is not CampaignStatus.OPEN:
        raise _UNAVAILABLE[status]()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def request_claim(campaign: ClaimCampaign, email: str, name: str = "", *, locale: str | None = None,
                  now: dt.datetime | None = None) -> ClaimRequest:
    """Record that ``email`` asks for ``campaign``'s badge, and return what to e-mail (see :class:`ClaimRequest`).

    A pending claim of the same address gets a new link (the previous one stops working) and the name if one
    is given now. Raises :class:`CampaignClosed`, :class:`CampaignNotOpen`, :class:`CampaignFull`,
    :class:`CampaignPaused`, ``InvalidEmail`` and ``InvalidName``.
    """
    moment = now or utcnow()
    require_open(campaign, moment)
    address = normalise_email(email)
    person = normalise_name(name or "", required=False)
    key = email_key(address)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    for _ in range(2):
        claim = db.session.scalar(select(Claim).where(Claim.campaign_id == campaign.id, Claim.email_key == key))
        if claim is not None and claim.state is ClaimState.CONFIRMED:
            return ClaimRequest(address=address, claim=claim, token=None)
        if claim is None:
            claim = Claim(campaign_id=campaign.id, email=address, email_key=key, name=person, locale=locale,
                          state=ClaimState.PENDING, requested_at=moment)
        elif person:
            claim.name = person
        claim.email = address
        claim.locale = locale or claim.locale
        claim.token_hash = _digest(token)
        claim.token_expires_at = moment + CLAIM_LINK_LIFETIME
        claim.link_sent_at = moment
        try:
            with db.session.begin_nested():
                db.session.add(claim)
        except IntegrityError:
            continue  # the same address asked at the same moment from another request: take its row
        return ClaimRequest(address=address, claim=claim, token=token)
    raise RuntimeError("could not record the claim")  # pragma: no cover - two lost races in a row


def check_claim_link(typed_code: str, token: str, *, now: dt.datetime | None = None) -> Claim:
    """The claim a confirmation link belongs to, without using it (for the page that asks to confirm).

    A confirmed claim is returned as it is (the page shows its credential). Raises :class:`InvalidClaimLink`
    (unknown, replaced by a newer link, or of another campaign) and :class:`ClaimLinkExpired`.
    """
    claim = _claim_by_token(typed_code, token)
    if claim.state is ClaimState.PENDING and claim.token_expires_at is not None \
            and claim.token_expires_at <= (now or utcnow()):
        raise ClaimLinkExpired()
    return claim


def _claim_by_token(typed_code: str, token: str) -> Claim:
    code = normalise_short_code(typed_code)
    if code is None or not token or len(token) > TOKEN_MAX_CHARS:
        raise InvalidClaimLink()
    digest = _digest(token)
    claim: Claim | None = db.session.scalar(select(Claim).where(Claim.token_hash == digest))
    # Looked up by digest, so the secret is never compared byte by byte; the final check is constant-time.
    if claim is None or claim.token_hash is None or not hmac.compare_digest(claim.token_hash, digest) \
            or claim.campaign.short_code != code:
        raise InvalidClaimLink()
    return claim


def _lock_campaign(campaign_id: int) -> ClaimCampaign:
    # FOR NO KEY UPDATE (PostgreSQL): confirmations and closing of one campaign queue behind each other, while
    # new claims (their foreign key takes a KEY SHARE lock) still go in. SQLite ignores it: it has one writer.
    campaign: ClaimCampaign = db.session.scalars(
        select(ClaimCampaign).where(ClaimCampaign.id == campaign_id).with_for_update(key_share=True)
        .execution_options(populate_existing=True)).one()
    return campaign


def confirm_claim(typed_code: str, token: str, *, now: dt.datetime | None = None,
                  config: Mapping[str, Any]) -> ConfirmedClaim:
    """Confirm the claim of a link and issue its credential (flushed, not committed); see the module docstring.

    Following a used link again returns the same credential with ``issued_now`` False. Raises
    :class:`InvalidClaimLink`, :class:`ClaimLinkExpired`, :class:`CampaignClosed` (closed by staff),
    :class:`CampaignFull` (the cap is reached), and what ``issue_credential`` raises (a suspended
    organisation, an archived achievement, a key problem); nothing of the confirmation remains then.
    """
    moment = now or utcnow()
    found = _claim_by_token(typed_code, token)
    # Lock order: the campaign, then (inside issue_credential) the organisation and its status list.
    campaign = _lock_campaign(found.campaign_id)
    claim: Claim = db.session.scalars(select(Claim).where(Claim.id == found.id)
                                      .execution_options(populate_existing=True)).one()
    if claim.state is ClaimState.CONFIRMED:
        return ConfirmedClaim(claim=claim, credential=claim.credential, issued_now=False)
    if claim.token_hash != found.token_hash:
        raise InvalidClaimLink()  # a newer link was sent while this request waited for the lock
    if claim.token_expires_at is None or claim.token_expires_at <= moment:
        raise ClaimLinkExpired()
    if campaign.closed_at is not None:
        raise CampaignClosed()
    confirmed = db.session.scalar(select(func.count(Claim.id)).where(
        Claim.campaign_id == campaign.id, Claim.state == ClaimState.CONFIRMED)) or 0
    if campaign.max_claims is not None and confirmed >= campaign.max_claims:
        raise CampaignFull()
    with db.session.begin_nested():
        credential = issue_credential(
            organisation=campaign.organisation, achievement=campaign.achievement, recipient_email=claim.email,
            recipient_name=claim.name, actor_id=None, source=CredentialSource.CLAIM,
            idempotency_key=f"claim:{campaign.id}:{claim.email_key}", now=moment, config=config)
        claim.state = ClaimState.CONFIRMED
        claim.confirmed_at = moment
        claim.credential_id = credential.id
        campaign.claimed_count = confirmed + 1
        db.session.flush()
    return ConfirmedClaim(claim=claim, credential=credential, issued_now=True)


# --------------------------------------------------------------------------------------------- erasure


def purge_stale_claims(*, now: dt.datetime | None = None) -> int:
    """Delete the pending claims that can no longer be confirmed, and return how many: those of campaigns
    closed early, and those whose link expired after the end of their campaign. Their addresses served nothing
    any more (data minimisation); confirmed claims stay. Flushes.
    """
    moment = now or utcnow()
    closed_early = select(ClaimCampaign.id).where(ClaimCampaign.closed_at.is_not(None))
    ended = select(ClaimCampaign.id).where(ClaimCampaign.closes_at <= moment)
    expired = Claim.token_expires_at.is_(None) | (Claim.token_expires_at <= moment)
    result = db.session.execute(
        delete(Claim).where(Claim.state == ClaimState.PENDING,
                            Claim.campaign_id.in_(closed_early) | (Claim.campaign_id.in_(ended) & expired))
        .execution_options(synchronize_session=False))
    db.session.flush()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def erase_personal_data(email_keys: set[str]) -> int:
    """Forget the addresses and names of every claim made with one of ``email_keys`` (``email_key`` values).

    Pending claims are deleted. Confirmed ones stay (they count towards their campaign's cap) with the address,
    the name and the link blanked, and an ``email_key`` that no address can have. Flushes; returns how many
    claims were erased or deleted.
    """
    keys = {key for key in email_keys if key}
    if not keys:
        return 0
    pending = db.session.execute(delete(Claim).where(Claim.email_key.in_(keys), Claim.state == ClaimState.PENDING)
                                 .execution_options(synchronize_session=False))
    count = int(pending.rowcount or 0)  # type: ignore[attr-defined]
    for claim in db.session.scalars(select(Claim).where(Claim.email_key.in_(keys))):
        claim.email = ""
        claim.name = ""
        # Not an address (no "@"), unique per claim: the unique constraint keeps holding.
        claim.email_key = f"erased:{claim.id}"
        claim.token_hash = None
        claim.token_expires_at = None
        claim.locale = None
        count += 1
    db.session.flush()
    return count
