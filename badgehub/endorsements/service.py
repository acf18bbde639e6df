"""Making, withdrawing and showing endorsements; the rules, written here and nowhere else.

* **Who endorses.** An organisation in good standing, through a member who may award its badges (owner or
  issuer), or a territory through its issuer (:mod:`badgehub.endorsements.territory_issuers`), acted for by the
  territory's coordinators. Nobody endorses their own organisation, its badges or the credentials it issued
  (:class:`SelfEndorsement`), and an organisation endorses one thing once while its endorsement stands.
* **What it signs.** An OB 3.0 ``EndorsementCredential`` (VC DM 2.0) about the achievement's URL, the
  organisation's issuer id or the credential's id, with the endorser's Profile as ``issuer``, the comment (and
  the evidence address, as a Markdown line of it) as ``endorsementComment``, a ``credentialStatus`` at a random
  index of the endorser's revocation list, signed with Data Integrity (``eddsa-rdfc-2022``) and as a VC-JWT by
  the issuing signer (:func:`badgehub.issuing.service.signer_for`): the same keys, did:web and lists as the
  endorser's credentials. Both are stored as signed, never rebuilt.
* **Who shows it.** The endorsed organisation (owner or issuer) may decline to display an endorsement of its
  badge or profile (and show it again); the learner chooses which endorsements of their credential are shown
  (none is, until they choose). Only shown endorsements that their endorser has not withdrawn are embedded in
  the published Achievement and Profile and listed on the public pages.
* **Withdrawing** sets the endorsement's status bit, and the list is signed again in the same transaction.
* **Invitations** (:func:`invite`): a learner makes a link for one of their credentials; at most
  :data:`MAX_INVITATIONS_PER_DAY` per person in 24 hours (:class:`TooManyInvitations`), each valid
  :data:`INVITATION_LIFETIME`.

Services flush; the caller commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import uuid
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from badgehub import events
from badgehub.accounts.addresses import verified_keys
from badgehub.achievements.models import Achievement
from badgehub.achievements.service import achievement_url
from badgehub.audit.service import record
from badgehub.credentials.data_integrity import sign_data_integrity
from badgehub.credentials.documents import (
    build_endorsement_credential,
    clean_text,
    forbidden_characters,
    format_timestamp,
    to_json,
)
from badgehub.credentials.errors import CredentialError
from badgehub.credentials.status_list import status_list_entry
from badgehub.db import utcnow
from badgehub.endorsements.errors import (
    AlreadyEndorsed,
    AlreadyEndorsedPersonally,
    AlreadyWithdrawn,
    CannotEndorse,
    EndorsementNotFound,
    InvitationNotFound,
    OwnCredential,
    SelfEndorsement,
    TooManyInvitations,
    TooManyPersonalEndorsements,
)
from badgehub.endorsements.models import Display, EndorsedKind, Endorsement, EndorsementInvitation
from badgehub.endorsements.personal_issuers import (
    clean_display_name,
    ensure_personal_issuer,
    erase_personal_issuer,
    is_personal_issuer,
    is_personal_issuer_of,
    personal_issuer_of,
)
from badgehub.endorsements.territory_issuers import actor_id_of, acts_for, territory_of_issuer
from badgehub.errors import ValidationError
from badgehub.extensions import db
from badgehub.fields import tidy_block, tidy_line
from badgehub.issuing.errors import IssuingFailed
from badgehub.issuing.models import IssuedCredential, StatusPurpose
from badgehub.issuing.service import new_public_id, sign_token, signer_for
from badgehub.issuing.status_lists import (
    draw_free_index,
    lock_list,
    lock_open_list,
    publish_status_list,
    register_index_holder,
    set_status,
    url_of,
)
from badgehub.keys.identity import issuer_id_of
from badgehub.organisations.models import Organisation
from badgehub.organisations.service import BADGE_ISSUERS, membership_of, require_good_standing
from badgehub.tokens.models import ApiToken

# Endorsements hold indexes of the endorser's revocation lists: issuing must never hand them out again.
register_index_holder(Endorsement.status_list_id, Endorsement.status_index)

MAX_COMMENT: Final = 2000
MAX_URL: Final = 500
MAX_MESSAGE: Final = 500
MAX_INVITATIONS_PER_DAY: Final = 10
MAX_PERSONAL_ENDORSEMENTS_PER_DAY: Final = 20
INVITATION_LIFETIME: Final = dt.timedelta(days=30)
_INSERT_ATTEMPTS: Final = 8


def _seconds(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(microsecond=0)


def _clean_comment(value: str | None, errors: dict[str, Any]) -> str:
    text = tidy_block(value)
    if not text:
        errors["comment"] = _l("Say in a few words what you vouch for.")
    elif len(text) > MAX_COMMENT:
        errors["comment"] = _l("Write at most %(max)s characters.", max=MAX_COMMENT)
    return text


def _clean_url(value: str | None, errors: dict[str, Any]) -> str | None:
    url = (value or "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if (parts.scheme not in ("http", "https") or not parts.netloc or len(url) > MAX_URL
            or any(ch.isspace() for ch in url) or forbidden_characters(url)):
        errors["evidence_url"] = _l("Give a full web address starting with https:// (at most %(max)s characters).",
                                    max=MAX_URL)
        return None
    return url


def _check_input(comment: str | None, evidence_url: str | None) -> tuple[str, str | None]:
    errors: dict[str, Any] = {}
    text, url = _clean_comment(comment, errors), _clean_url(evidence_url, errors)
    if errors:
        raise ValidationError(details={"fields": errors})
    return text, url


def _signs_for(organisation: Organisation, actor: Any) -> bool:
    """Whether ``actor`` signs endorsements with ``organisation``: one it acts for, or their own personal issuer
    (which is an organisation for nothing else: not in ``acts_for``)."""
    return acts_for(organisation, actor) or is_personal_issuer_of(organisation, actor)


def require_endorser(organisation: Organisation, actor: Any) -> None:
    """Raise :class:`CannotEndorse` (403) unless ``actor`` may endorse in ``organisation``'s name, and
    ``OrganisationSuspended`` when the organisation may not sign at the moment."""
    if not _signs_for(organisation, actor):
        raise CannotEndorse()
    require_good_standing(organisation)


def _standing_endorsement(endorser: Organisation, subject_uri: str) -> Endorsement | None:
    found: Endorsement | None = db.session.scalar(select(Endorsement).where(
        Endorsement.endorser_id == endorser.id, Endorsement.subject_uri == subject_uri,
        Endorsement.withdrawn_at.is_(None)).limit(1))
    return found


def _subject_name(kind: EndorsedKind, *, achievement: Achievement | None, organisation: Organisation,
                  credential: IssuedCredential | None) -> str:
    if kind is EndorsedKind.ACHIEVEMENT and achievement is not None and achievement.current_version is not None:
        return achievement.current_version.name
    if kind is EndorsedKind.CREDENTIAL and credential is not None:
        return credential.achievement_version.name
    return organisation.name


def _make(endorser: Organisation, actor: Any, *, kind: EndorsedKind, subject_uri: str, endorsed: Organisation,
          comment: str | None, evidence_url: str | None, display: Display,
          achievement: Achievement | None = None, credential: IssuedCredential | None = None,
          invitation: EndorsementInvitation | None = None, now: dt.datetime | None = None,
          config: Mapping[str, Any]) -> Endorsement:
    require_endorser(endorser, actor)
    if endorser.id == endorsed.id:
        raise SelfEndorsement()
    if is_personal_issuer(endorsed):  # a person's own issuer is no organisation to endorse
        raise EndorsementNotFound()
    text, url = _check_input(comment, evidence_url)
    if _standing_endorsement(endorser, subject_uri) is not None:
        raise AlreadyEndorsed()
    settings = config
    moment = _seconds(now or utcnow())
    signed_comment = f"{text}\n\n{gettext('Evidence:')} <{url}>" if url else text
    name = clean_text(str(gettext("Endorsement of %(name)s", name=_subject_name(
        kind, achievement=achievement, organisation=endorsed, credential=credential))))[:200]
    actor_id = actor_id_of(actor)
    with db.session.begin_nested():
        status_list = lock_open_list(endorser, StatusPurpose.REVOCATION, now=moment)
        signer = signer_for(endorser, settings)
        list_url = url_of(status_list, settings)
        for _ in range(_INSERT_ATTEMPTS):
            index = draw_free_index(status_list)
            credential_id = f"urn:uuid:{uuid.uuid4()}"
            try:
                document = build_endorsement_credential(
                    credential_id=credential_id, issuer=signer.profile, subject_id=subject_uri, name=name,
                    valid_from=moment, awarded_date=moment, endorsement_comment=signed_comment,
                    credential_status=status_list_entry(list_url, index, StatusPurpose.REVOCATION.value))
                signed = sign_data_integrity(document, signer.ed25519, signer.identity.verification_method_id,
                                             format_timestamp(moment))
                token = sign_token(signed, signer)
            except CredentialError as exc:
                raise IssuingFailed(details={"code": exc.code}) from exc
            endorsement = Endorsement(
                public_id=new_public_id(), credential_id=credential_id, endorser_id=endorser.id, author_id=actor_id,
                kind=kind, subject_uri=subject_uri, endorsed_organisation_id=endorsed.id,
                achievement_id=achievement.id if achievement is not None else None,
                issued_credential_id=credential.id if credential is not None else None,
                invitation_id=invitation.id if invitation is not None else None, comment=text, evidence_url=url,
                document_json=to_json(signed), vc_jwt=token, issued_at=moment, display=display,
                status_list_id=status_list.id, status_index=index)
            try:
                with db.session.begin_nested():
                    db.session.add(endorsement)
            except IntegrityError:
                continue  # another transaction took this index or id: draw again
            status_list.allocated += 1
            publish_status_list(status_list, config=settings)
            record("endorsement.made", actor_id=actor_id, organisation_id=endorser.id,
                   subject_type="endorsement", subject_id=endorsement.id,
                   details={"public_id": endorsement.public_id, "kind": kind.value,
                            "endorsed_organisation": endorsed.id, "status_list": status_list.number,
                            "status_index": index})
            db.session.flush()
            territory = territory_of_issuer(endorser)  # the territory itself endorses: no organisation of it
            by_organisation = territory is None and not is_personal_issuer(endorser)  # nor a person in their name
            events.endorsement_issued.send(
                None, endorsement_id=endorsement.id, kind=kind.value,
                endorser_organisation_id=endorser.id if by_organisation else None,
                endorsed_organisation_id=endorsed.id, territory_id=territory.id if territory is not None else None,
                occurred_at=moment)
            return endorsement
    raise IssuingFailed()  # pragma: no cover - eight lost races in a row


def endorse_achievement(endorser: Organisation, actor: Any, achievement: Achievement, *, comment: str | None,
                        evidence_url: str | None = None, now: dt.datetime | None = None,
                        config: Mapping[str, Any]) -> Endorsement:
    """``endorser`` endorses another organisation's ``achievement`` (shown until that organisation declines it).

    Raises :class:`CannotEndorse`, ``OrganisationSuspended``, :class:`SelfEndorsement`, :class:`AlreadyEndorsed`,
    ``ValidationError`` (``details.fields``: ``comment``, ``evidence_url``), the key service's errors, and
    ``IssuingFailed`` when the credential engine refuses the document. Flushes."""
    settings = config
    return _make(endorser, actor, kind=EndorsedKind.ACHIEVEMENT, subject_uri=achievement_url(achievement, settings),
                 endorsed=achievement.organisation, comment=comment, evidence_url=evidence_url,
                 display=Display.SHOWN, achievement=achievement, now=now, config=settings)


def endorse_organisation(endorser: Organisation, actor: Any, organisation: Organisation, *, comment: str | None,
                         evidence_url: str | None = None, now: dt.datetime | None = None,
                         config: Mapping[str, Any]) -> Endorsement:
    """``endorser`` endorses ``organisation`` as an issuer (its Profile, by its issuer id). Raises like
    :func:`endorse_achievement`."""
    settings = config
    return _make(endorser, actor, kind=EndorsedKind.PROFILE, subject_uri=issuer_id_of(organisation, settings),
                 endorsed=organisation, comment=comment, evidence_url=evidence_url, display=Display.SHOWN,
                 now=now, config=settings)


def endorse_by_invitation(token: str, endorser: Organisation, actor: Any, *, comment: str | None,
                          evidence_url: str | None = None, now: dt.datetime | None = None,
                          config: Mapping[str, Any]) -> Endorsement:
    """``endorser`` endorses the credential a learner's invitation link is for; the learner then chooses whether
    it is shown. Raises :class:`InvitationNotFound` and what :func:`endorse_achievement` raises."""
    invitation = invitation_by_token(token, now=now)
    credential = invitation.credential
    if credential.revoked_at is not None:
        raise InvitationNotFound()
    return _make(endorser, actor, kind=EndorsedKind.CREDENTIAL, subject_uri=credential.credential_id,
                 endorsed=credential.organisation, comment=comment, evidence_url=evidence_url,
                 display=Display.PENDING, credential=credential, invitation=invitation, now=now, config=config)


def endorse_in_own_name(token: str, actor: Any, *, display_name: str | None, comment: str | None,
                        evidence_url: str | None = None, now: dt.datetime | None = None,
                        config: Mapping[str, Any]) -> Endorsement:
    """A signed-in person endorses the credential of a learner's invitation in their own name, signed by their
    personal issuer (:mod:`badgehub.endorsements.personal_issuers`, made on first use and named
    ``display_name``). Raises :class:`InvitationNotFound`, :class:`OwnCredential` (403) when the credential is
    theirs, :class:`TooManyPersonalEndorsements` (429) after :data:`MAX_PERSONAL_ENDORSEMENTS_PER_DAY` in 24
    hours, ``ValidationError`` (``details.fields``: ``display_name``, ``comment``, ``evidence_url``) and what
    :func:`endorse_achievement` raises. Flushes."""
    invitation = invitation_by_token(token, now=now)
    credential = invitation.credential
    if credential.revoked_at is not None:
        raise InvitationNotFound()
    if not getattr(actor, "is_authenticated", False) or isinstance(actor, ApiToken):
        raise CannotEndorse()
    if credential.recipient_email_key in ({actor.email_key} | verified_keys(actor)):
        raise OwnCredential()
    errors: dict[str, Any] = {}
    try:
        name = clean_display_name(display_name, actor)
    except ValidationError as error:
        errors.update(error.details["fields"])
        name = ""
    _clean_comment(comment, errors)
    _clean_url(evidence_url, errors)
    if errors:
        raise ValidationError(details={"fields": errors})
    moment = now or utcnow()
    existing = personal_issuer_of(actor)
    if existing is not None:
        made = db.session.scalar(select(func.count(Endorsement.id)).where(
            Endorsement.endorser_id == existing.id, Endorsement.issued_at > moment - dt.timedelta(days=1))) or 0
        if made >= MAX_PERSONAL_ENDORSEMENTS_PER_DAY:
            raise TooManyPersonalEndorsements()
        if _standing_endorsement(existing, credential.credential_id) is not None:
            raise AlreadyEndorsedPersonally()
    issuer = ensure_personal_issuer(actor, display_name=name, config=config)
    return _make(issuer, actor, kind=EndorsedKind.CREDENTIAL, subject_uri=credential.credential_id,
                 endorsed=credential.organisation, comment=comment, evidence_url=evidence_url,
                 display=Display.PENDING, credential=credential, invitation=invitation, now=now, config=config)


def own_endorsements(actor: Any) -> list[Endorsement]:
    """The endorsements ``actor`` signed in their own name, newest first (empty when they never did)."""
    issuer = personal_issuer_of(actor)
    return given_by(issuer) if issuer is not None else []


def own_endorsement(actor: Any, public_id: str) -> Endorsement:
    """One of the endorsements ``actor`` signed in their own name. Raises :class:`EndorsementNotFound` for any
    other (an organisation's, another person's, or none)."""
    endorsement = get_endorsement(public_id)
    issuer = personal_issuer_of(actor)
    if issuer is None or endorsement.endorser_id != issuer.id:
        raise EndorsementNotFound()
    return endorsement


def erase_own_endorsements(user: Any, *, config: Mapping[str, Any], now: dt.datetime | None = None) -> int:
    """Before ``user``'s account is erased: their standing personal endorsements are withdrawn and every one
    blanked, with their issuer's name (see :func:`badgehub.endorsements.personal_issuers.erase_personal_issuer`).
    Returns how many were blanked. Flushes."""
    return erase_personal_issuer(
        user, withdraw=lambda endorsement, now=None: withdraw(endorsement, user, now=now, config=config), now=now)


def withdraw(endorsement: Endorsement, actor: Any, *, now: dt.datetime | None = None,
             config: Mapping[str, Any]) -> Endorsement:
    """The endorser takes its endorsement back for good: its status bit is set and the list signed again.
    Raises :class:`EndorsementNotFound` for someone who may not act for the endorser, :class:`AlreadyWithdrawn`.
    Flushes."""
    if not _signs_for(endorsement.endorser, actor):
        raise EndorsementNotFound()
    moment = now or utcnow()
    with db.session.begin_nested():
        status_list = lock_list(endorsement.status_list_id)
        db.session.refresh(endorsement, with_for_update=True)
        if endorsement.withdrawn_at is not None:
            raise AlreadyWithdrawn()
        set_status(status_list, endorsement.status_index, True, now=moment)
        publish_status_list(status_list, config=config)
        endorsement.withdrawn_at = moment
        record("endorsement.withdrawn", actor_id=actor_id_of(actor), organisation_id=endorsement.endorser_id,
               subject_type="endorsement", subject_id=endorsement.id,
               details={"public_id": endorsement.public_id, "status_list": status_list.number,
                        "status_index": endorsement.status_index})
    db.session.flush()
    return endorsement


def may_choose_display(endorsement: Endorsement, actor: Any) -> bool:
    """Whether ``actor`` decides if ``endorsement`` is shown: the learner for a credential's, the endorsed
    organisation's owners and issuers (or its API tokens) otherwise."""
    if isinstance(actor, ApiToken):
        return (endorsement.kind is not EndorsedKind.CREDENTIAL
                and actor.organisation_id == endorsement.endorsed_organisation_id)
    if endorsement.kind is EndorsedKind.CREDENTIAL:
        credential = endorsement.issued_credential
        return (credential is not None and getattr(actor, "is_authenticated", False)
                and credential.recipient_email_key in verified_keys(actor))
    member = membership_of(endorsement.endorsed_organisation, actor)
    return member is not None and member.role in BADGE_ISSUERS


def set_display(endorsement: Endorsement, actor: Any, *, shown: bool, now: dt.datetime | None = None) -> Endorsement:
    """Show or decline ``endorsement`` (see :func:`may_choose_display`). Raises :class:`EndorsementNotFound` for
    anyone else. Flushes."""
    if not may_choose_display(endorsement, actor):
        raise EndorsementNotFound()
    wanted = Display.SHOWN if shown else Display.DECLINED
    if endorsement.display is not wanted:
        endorsement.display = wanted
        endorsement.display_changed_at = now or utcnow()
        record("endorsement.shown" if shown else "endorsement.declined", actor_id=actor_id_of(actor),
               organisation_id=endorsement.endorsed_organisation_id, subject_type="endorsement",
               subject_id=endorsement.id, details={"public_id": endorsement.public_id})
        db.session.flush()
    return endorsement


# --------------------------------------------------------------------------------------------- look-ups


def _with_parties(query: Any) -> Any:
    return query.options(selectinload(Endorsement.endorser), selectinload(Endorsement.endorsed_organisation),
                         selectinload(Endorsement.status_list))


def get_endorsement(public_id: str) -> Endorsement:
    """Any endorsement by its public id. Raises :class:`EndorsementNotFound`."""
    if not isinstance(public_id, str) or len(public_id) != 12 or not public_id.isalnum():
        raise EndorsementNotFound()
    found: Endorsement | None = db.session.scalar(_with_parties(select(Endorsement)).where(
        Endorsement.public_id == public_id))
    if found is None:
        raise EndorsementNotFound()
    return found


def endorsement_for(organisation: Organisation, public_id: str) -> Endorsement:
    """An endorsement ``organisation`` made or received; any other is :class:`EndorsementNotFound` (404)."""
    found = get_endorsement(public_id)
    if organisation.id not in (found.endorser_id, found.endorsed_organisation_id):
        raise EndorsementNotFound()
    return found


def public_endorsements(*, achievement: Achievement | None = None, organisation: Organisation | None = None,
                        credential: IssuedCredential | None = None) -> list[Endorsement]:
    """The shown, standing endorsements of one achievement, one organisation's profile or one credential,
    oldest first (what is embedded and listed publicly)."""
    query = _with_parties(select(Endorsement)).where(Endorsement.display == Display.SHOWN,
                                                     Endorsement.withdrawn_at.is_(None))
    if achievement is not None:
        query = query.where(Endorsement.kind == EndorsedKind.ACHIEVEMENT, Endorsement.achievement_id == achievement.id)
    elif organisation is not None:
        query = query.where(Endorsement.kind == EndorsedKind.PROFILE,
                            Endorsement.endorsed_organisation_id == organisation.id)
    elif credential is not None:
        query = query.where(Endorsement.kind == EndorsedKind.CREDENTIAL,
                            Endorsement.issued_credential_id == credential.id)
    else:
        raise ValueError("say what the endorsements are about")
    return list(db.session.scalars(query.order_by(Endorsement.issued_at, Endorsement.id)))


def documents_of(endorsements: list[Endorsement]) -> tuple[dict[str, Any], ...]:
    """The signed documents, exactly as stored, for embedding (``endorsement``)."""
    return tuple(json.loads(endorsement.document_json) for endorsement in endorsements)


def given_by(organisation: Organisation) -> list[Endorsement]:
    """Every endorsement ``organisation`` made, newest first."""
    return list(db.session.scalars(_with_parties(select(Endorsement)).where(
        Endorsement.endorser_id == organisation.id).order_by(Endorsement.issued_at.desc(), Endorsement.id.desc())))


def received_by(organisation: Organisation) -> list[Endorsement]:
    """Every endorsement of ``organisation``'s badges and profile, newest first (those of learners' credentials
    are the learners' to show, and are not listed here)."""
    return list(db.session.scalars(_with_parties(select(Endorsement)).where(
        Endorsement.endorsed_organisation_id == organisation.id, Endorsement.kind != EndorsedKind.CREDENTIAL)
        .order_by(Endorsement.issued_at.desc(), Endorsement.id.desc())))


def of_credential(credential: IssuedCredential) -> list[Endorsement]:
    """Every endorsement of ``credential`` (for its holder), newest first."""
    return list(db.session.scalars(_with_parties(select(Endorsement)).where(
        Endorsement.kind == EndorsedKind.CREDENTIAL, Endorsement.issued_credential_id == credential.id)
        .order_by(Endorsement.issued_at.desc(), Endorsement.id.desc())))


# ------------------------------------------------------------------------------------------ invitations


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def invite(credential: IssuedCredential, actor: Any, *, message: str | None = None,
           now: dt.datetime | None = None) -> tuple[EndorsementInvitation, str]:
    """A new invitation link for the learner's ``credential`` (check it is theirs first, e.g. with the wallet's
    look-up); returns the row and the token (shown once, only its hash is kept). Raises
    :class:`TooManyInvitations` (429) after :data:`MAX_INVITATIONS_PER_DAY` in 24 hours, ``ValidationError``
    for a long message. Flushes."""
    moment = now or utcnow()
    text = tidy_line(message)
    if len(text) > MAX_MESSAGE:
        raise ValidationError(details={"fields": {"message": _l("Write at most %(max)s characters.",
                                                                max=MAX_MESSAGE)}})
    made = db.session.scalar(select(func.count(EndorsementInvitation.id)).where(
        EndorsementInvitation.created_by_id == actor.id,
        EndorsementInvitation.created_at > moment - dt.timedelta(days=1))) or 0
    if made >= MAX_INVITATIONS_PER_DAY:
        raise TooManyInvitations()
    token = secrets.token_urlsafe(24)
    invitation = EndorsementInvitation(token_hash=_digest(token), issued_credential_id=credential.id,
                                       created_by_id=actor.id, message=text, created_at=moment,
                                       expires_at=moment + INVITATION_LIFETIME)
    db.session.add(invitation)
    db.session.flush()
    return invitation, token


def invitation_by_token(token: str, *, now: dt.datetime | None = None) -> EndorsementInvitation:
    """The open invitation of ``token``. Raises :class:`InvitationNotFound` (404) for an unknown, closed or
    expired one."""
    if not isinstance(token, str) or not 16 <= len(token) <= 100:
        raise InvitationNotFound()
    invitation: EndorsementInvitation | None = db.session.scalar(
        select(EndorsementInvitation).where(EndorsementInvitation.token_hash == _digest(token))
        .options(selectinload(EndorsementInvitation.credential)))
    moment = now or utcnow()
    if invitation is None or invitation.closed_at is not None or invitation.expires_at <= moment:
        raise InvitationNotFound()
    return invitation


def open_invitations(credential: IssuedCredential, *, now: dt.datetime | None = None) -> list[EndorsementInvitation]:
    """The credential's invitations still open, newest first."""
    moment = now or utcnow()
    return list(db.session.scalars(select(EndorsementInvitation).where(
        EndorsementInvitation.issued_credential_id == credential.id, EndorsementInvitation.closed_at.is_(None),
        EndorsementInvitation.expires_at > moment).order_by(EndorsementInvitation.created_at.desc())))


def close_invitation(credential: IssuedCredential, invitation_id: int, *, now: dt.datetime | None = None) -> None:
    """Close one of the credential's invitations (the link stops working). Raises :class:`InvitationNotFound`."""
    invitation = db.session.get(EndorsementInvitation, invitation_id)
    if invitation is None or invitation.issued_credential_id != credential.id:
        raise InvitationNotFound()
    if invitation.closed_at is None:
        invitation.closed_at = now or utcnow()
        db.session.flush()
