"""Recognition requests: asking, answering, and the organisation's decisions. The rules, written here and nowhere
else (the pages, the API and the demo call these functions).

* **Asking.** Anyone signed in with a confirmed address asks an organisation in good standing to recognise
  something: one of its badges that is not archived (:func:`submit` with an achievement), or learning they
  describe in their own words (no achievement: a title is then required). A description is required; evidence
  is optional: links (:func:`badgehub.fields.web_address`) and files (:mod:`badgehub.recognition.evidence_files`),
  at most :data:`MAX_LINKS` links and ``MAX_FILES`` files per request. One open request per person and badge
  (:class:`AlreadyRequested`); at most :data:`MAX_OPEN_PER_PERSON` open requests per person and
  :data:`MAX_OPEN_PER_ORGANISATION` waiting in one organisation's queue (:class:`TooManyRequests`); the pages
  and the API add per-hour rate limits on top.
* **Self-declared badges** (achievement type :data:`~badgehub.credentials.values.SELF_DECLARED_TYPE`) are
  **accepted at once, without assessment**: the organisation chose to record what its learners declare, so
  holding the request in a queue would only delay the learner. The credential says "declared, not assessed"
  itself (its achievement type and criteria); the organisation can still revoke it. When the organisation cannot
  sign just then (its key retired or compromised and not yet replaced, the key-encryption key missing or wrong),
  the request waits in its queue like any other, so nothing the learner gave is lost, and a reviewer accepts it
  once the keys are in order.
* **Deciding** (reviewers only, see :mod:`badgehub.recognition.queries`), while the request is open:
  *accept* awards the badge asked for (or, for a described learning, the badge the reviewer chooses among the
  organisation's) through :func:`badgehub.issuing.service.issue_credential` (source ``request``, idempotency
  key ``request:<id>``), with the evidence in the credential's evidence; *ask for more* sends a question and
  waits for the learner's answer, which puts the request back in the queue; *decline* needs a reason.
* **Mail and signals.** Each step returns the :class:`Notice` s to send (the caller words them with
  :mod:`badgehub.mails.recognition` and queues them in the same transaction) and sends
  :data:`badgehub.events.recognition_request_changed`.

Services flush and never commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from badgehub import events
from badgehub.accounts.models import User
from badgehub.achievements.models import Achievement
from badgehub.audit.service import record
from badgehub.config import SUPPORTED_LOCALES
from badgehub.credentials.values import SELF_DECLARED_TYPE
from badgehub.db import utcnow
from badgehub.endorsements.personal_issuers import is_personal_issuer
from badgehub.endorsements.territory_issuers import actor_id_of
from badgehub.errors import ValidationError
from badgehub.extensions import db
from badgehub.fields import FieldError, block, line, web_address
from badgehub.issuing.errors import IssuingFailed
from badgehub.issuing.models import CredentialSource, IssuedCredential
from badgehub.issuing.service import MAX_NARRATIVE, issue_credential, new_public_id
from badgehub.keys.errors import InvalidKek, KekMissing, KeyDecryptionFailed, KeyNotActive, NoActiveKey
from badgehub.organisations.models import Organisation
from badgehub.organisations.service import can_act
from badgehub.recognition import queries
from badgehub.recognition.errors import (
    AlreadyRequested,
    EvidenceRejected,
    NotRequestable,
    RequestNotFound,
    TooManyRequests,
    WrongStatus,
)
from badgehub.recognition.evidence_files import MAX_FILES, read_evidence
from badgehub.recognition.models import (
    OPEN_STATUSES,
    EventKind,
    EvidenceKind,
    RecognitionRequest,
    RequestEvent,
    RequestEvidence,
    RequestStatus,
)

MAX_TITLE: Final = 200
MAX_DESCRIPTION: Final = 3000
MAX_MESSAGE: Final = 2000
MAX_LINKS: Final = 10
MAX_OPEN_PER_PERSON: Final = 20
MAX_OPEN_PER_ORGANISATION: Final = 1000
# The organisation cannot sign now: its keys or the server's key-encryption key, nothing the learner can mend.
CANNOT_SIGN: Final = (NoActiveKey, KeyNotActive, KekMissing, InvalidKek, KeyDecryptionFailed, IssuingFailed)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Upload:
    """A file as received: the name the browser gave and its bytes."""

    filename: str | None
    data: bytes


@dataclass(frozen=True)
class RequestInput:
    """What the learner typed: a title (only for a described learning), a description or answer, links (one
    per entry, blank entries ignored) and files."""

    text: str | None
    title: str | None = None
    links: Sequence[str] = ()
    files: Sequence[Upload] = ()


@dataclass(frozen=True)
class Notice:
    """One e-mail to send about a request: ``kind`` is ``new``, ``answered`` (to a reviewer), ``more_asked`` or
    ``declined`` (to the learner); ``text`` the question or the reason."""

    kind: str
    to: str
    name: str
    locale: str
    request_id: str
    organisation: str
    organisation_slug: str
    title: str
    text: str = ""


@dataclass
class Outcome:
    """What a step did: the request, the e-mails to send, and the credential when it was awarded."""

    request: RecognitionRequest
    notices: list[Notice] = field(default_factory=list)
    credential: IssuedCredential | None = None


def is_self_declared(achievement: Achievement | None) -> bool:
    """Whether ``achievement`` is a self-declared badge (its current version's type)."""
    version = achievement.current_version if achievement is not None else None
    return version is not None and version.achievement_type == SELF_DECLARED_TYPE


def requestable(achievement: Achievement) -> bool:
    """Whether a learner may ask for ``achievement`` now: not archived, its organisation in good standing."""
    return not achievement.is_archived and achievement.current_version is not None and can_act(achievement.organisation)


def _locale_of(user: User | None, fallback: str | None, settings: Mapping[str, Any]) -> str:
    for candidate in (getattr(user, "locale", None), fallback, settings.get("BABEL_DEFAULT_LOCALE")):
        if candidate in SUPPORTED_LOCALES:
            return str(candidate)
    return "en"


def _notice(kind: str, request: RecognitionRequest, user: User, locale: str, text: str = "") -> Notice:
    return Notice(kind=kind, to=user.email, name=user.name, locale=locale, request_id=request.public_id,
                  organisation=request.organisation.name, organisation_slug=request.organisation.slug,
                  title=request.title, text=text)


def _to_reviewers(kind: str, request: RecognitionRequest, settings: Mapping[str, Any]) -> list[Notice]:
    return [_notice(kind, request, user, _locale_of(user, None, settings))
            for user in queries.reviewers_of(request.organisation) if user.id != request.requester_id]


def _to_learner(kind: str, request: RecognitionRequest, text: str, settings: Mapping[str, Any]) -> list[Notice]:
    return [_notice(kind, request, request.requester, _locale_of(request.requester, request.locale, settings), text)]


def _announce(request: RecognitionRequest) -> None:
    events.recognition_request_changed.send(
        None, request_id=request.id, organisation_id=request.organisation_id, status=request.status.value,
        self_declared=request.self_declared)


def _text(value: str | None, name: str, limit: int, errors: dict[str, Any], *, required: bool = True) -> str:
    try:
        return block(value, limit, required=required)
    except FieldError as exc:
        errors[name] = exc.message
        return ""


def _links(values: Sequence[str], errors: dict[str, Any]) -> list[str]:
    links: list[str] = []
    for value in values:
        try:
            url = web_address(value)
        except FieldError as exc:
            errors["links"] = exc.message
            continue
        if url is not None and url not in links:
            links.append(url)
    if len(links) > MAX_LINKS:
        errors["links"] = _l("Give at most %(max)s links.", max=MAX_LINKS)
    return links


def _check_evidence(data: RequestInput, already_files: int, errors: dict[str, Any]) -> tuple[list[str], list[Any]]:
    links = _links(data.links, errors)
    uploads = [upload for upload in data.files if upload.data or upload.filename]
    if already_files + len(uploads) > MAX_FILES:
        raise EvidenceRejected("too_many_files", _l("Attach at most %(max)s files to one request.", max=MAX_FILES))
    files = [read_evidence(upload.filename, upload.data) for upload in uploads]
    return links, files


def _add_evidence(request: RecognitionRequest, links: Sequence[str], files: Sequence[Any], now: dt.datetime) -> None:
    known = {item.url for item in request.evidence if item.url}
    for url in links:
        if url not in known:
            request.evidence.append(RequestEvidence(public_id=new_public_id(), kind=EvidenceKind.LINK, url=url,
                                                    added_at=now))
    for file in files:
        request.evidence.append(RequestEvidence(
            public_id=new_public_id(), kind=EvidenceKind.FILE, filename=file.filename, media_type=file.media_type,
            size=len(file.data), sha256=hashlib.sha256(file.data).hexdigest(), data=file.data, added_at=now))


def _event(request: RecognitionRequest, kind: EventKind, author_id: int | None, text: str, now: dt.datetime) -> None:
    request.events.append(RequestEvent(kind=kind, author_id=author_id, text=text, created_at=now))
    request.updated_at = now


def submit(requester: User, organisation: Organisation, data: RequestInput, *, achievement: Achievement | None = None,
           locale: str | None = None, settings: Mapping[str, Any], now: dt.datetime | None = None) -> Outcome:
    """Ask ``organisation`` to recognise something (see the module docstring) and return the outcome: the
    request, the e-mails to its reviewers, and the credential when the badge is self-declared.

    Raises ``ValidationError`` (``details.fields``: ``title``, ``text``, ``links``), :class:`EvidenceRejected`,
    :class:`NotRequestable`, :class:`AlreadyRequested`, :class:`TooManyRequests`, and what issuing raises for
    a self-declared badge but :data:`CANNOT_SIGN` (the request then waits for a reviewer)."""
    moment = now or utcnow()
    if requester.verified_at is None:
        raise ValidationError(_l("Confirm your e-mail address first: the badge will be sent to it."))
    if is_personal_issuer(organisation):  # a person endorsing in their own name reviews no requests
        raise NotRequestable(_l("%(name)s endorses in their own name and does not take requests.",
                                name=organisation.name))
    if achievement is not None and (achievement.organisation_id != organisation.id or not requestable(achievement)):
        raise NotRequestable()
    if not can_act(organisation):
        raise NotRequestable(_l("%(organisation)s does not take requests just now: it is suspended. Try again later.",
                                organisation=organisation.name))
    errors: dict[str, Any] = {}
    if achievement is not None and achievement.current_version is not None:
        title = achievement.current_version.name
    else:
        try:
            title = line(data.title, MAX_TITLE, required=True)
        except FieldError as exc:
            errors["title"], title = exc.message, ""
    text = _text(data.text, "text", MAX_DESCRIPTION, errors)
    links, files = _check_evidence(data, 0, errors)
    if errors:
        raise ValidationError(details={"fields": errors})
    if achievement is not None and db.session.scalar(select(RecognitionRequest.id).where(
            RecognitionRequest.requester_id == requester.id, RecognitionRequest.achievement_id == achievement.id,
            RecognitionRequest.status.in_(OPEN_STATUSES)).limit(1)) is not None:
        raise AlreadyRequested()
    if queries.open_count_of(requester.id) >= MAX_OPEN_PER_PERSON:
        raise TooManyRequests()
    if queries.open_count_for(organisation.id) >= MAX_OPEN_PER_ORGANISATION:
        raise TooManyRequests(_l("This organisation has many requests waiting. Try again in a few days."))
    request = RecognitionRequest(
        public_id=new_public_id(), organisation_id=organisation.id, organisation=organisation,
        requester_id=requester.id, requester=requester, achievement_id=achievement.id if achievement else None,
        achievement=achievement, title=title, description=text, status=RequestStatus.SUBMITTED,
        self_declared=is_self_declared(achievement), locale=locale if locale in SUPPORTED_LOCALES else None,
        created_at=moment, updated_at=moment, evidence=[], events=[])
    _add_evidence(request, links, files, moment)
    _event(request, EventKind.SUBMITTED, requester.id, text, moment)
    db.session.add(request)
    db.session.flush()
    record("recognition.submitted", actor_id=requester.id, organisation_id=organisation.id,
           subject_type="recognition_request", subject_id=request.id,
           details={"public_id": request.public_id, "achievement": achievement.public_id if achievement else None,
                    "links": len(links), "files": len(files), "self_declared": request.self_declared})
    _announce(request)
    if request.self_declared and achievement is not None:
        try:
            credential = _award(request, achievement, None, settings=settings, moment=moment)
        except CANNOT_SIGN as exc:  # issuing leaves nothing of the award in the session: the request waits
            log.warning("self-declared request %s held in the queue: %s", request.public_id, exc.code)
            record("recognition.award_postponed", actor_id=requester.id, organisation_id=organisation.id,
                   subject_type="recognition_request", subject_id=request.id, details={"reason": exc.code})
        else:
            return Outcome(request, [], credential)
    return Outcome(request, _to_reviewers("new", request, settings))


def answer(request: RecognitionRequest, requester: User, data: RequestInput, *, settings: Mapping[str, Any],
           now: dt.datetime | None = None) -> Outcome:
    """The learner adds to an open request (text and/or more evidence). When the organisation had asked for more,
    this is the answer: the request goes back to the queue and the reviewers are told; while it waits in the
    queue, it is simply added (nobody is e-mailed). Raises :class:`RequestNotFound` for someone else's request,
    :class:`WrongStatus` for a decided one, ``ValidationError`` and :class:`EvidenceRejected`."""
    moment = now or utcnow()
    if request.requester_id != requester.id:
        raise RequestNotFound()
    if not request.is_open:
        raise WrongStatus()
    errors: dict[str, Any] = {}
    text = _text(data.text, "text", MAX_MESSAGE, errors, required=False)
    already = sum(1 for item in request.evidence if item.kind is EvidenceKind.FILE)
    links, files = _check_evidence(data, already, errors)
    if not text and not links and not files and not errors:
        errors["text"] = _l("Answer the question, or add a link or a file.")
    if errors:
        raise ValidationError(details={"fields": errors})
    _add_evidence(request, links, files, moment)
    _event(request, EventKind.ANSWERED, requester.id, text, moment)
    was_asked = request.status is RequestStatus.MORE_ASKED
    request.status = RequestStatus.SUBMITTED
    db.session.flush()
    record("recognition.answered", actor_id=requester.id, organisation_id=request.organisation_id,
           subject_type="recognition_request", subject_id=request.id,
           details={"links": len(links), "files": len(files), "was_asked": was_asked})
    if not was_asked:
        return Outcome(request)
    _announce(request)
    return Outcome(request, _to_reviewers("answered", request, settings))


def withdraw(request: RecognitionRequest, requester: User, *, now: dt.datetime | None = None) -> Outcome:
    """The learner withdraws an open request. Raises :class:`RequestNotFound`, :class:`WrongStatus`."""
    moment = now or utcnow()
    if request.requester_id != requester.id:
        raise RequestNotFound()
    if not request.is_open:
        raise WrongStatus()
    request.status = RequestStatus.WITHDRAWN
    request.decided_at = moment
    _event(request, EventKind.WITHDRAWN, requester.id, "", moment)
    db.session.flush()
    record("recognition.withdrawn", actor_id=requester.id, organisation_id=request.organisation_id,
           subject_type="recognition_request", subject_id=request.id)
    _announce(request)
    return Outcome(request)


def _require_open_for(request: RecognitionRequest, actor: Any) -> None:
    if not queries.can_review(request.organisation, actor):
        raise RequestNotFound()
    if not request.is_open:
        raise WrongStatus()


def evidence_narrative(request: RecognitionRequest, organisation_name: str, locale: str) -> str:
    """The credential's evidence narrative (Markdown), in ``locale``: what the learner wrote and answered, the
    links and files they gave (each file with its SHA-256, so the learner can show later which file was
    reviewed), and who reviewed it or that it was declared without assessment."""
    with force_locale(locale):
        parts = [request.description]
        parts += [event.text for event in request.events if event.kind is EventKind.ANSWERED and event.text]
        items = [f"- <{item.url}>" for item in request.evidence if item.kind is EvidenceKind.LINK]
        items += [f"- {item.filename} (SHA-256 {item.sha256})" for item in request.evidence
                  if item.kind is EvidenceKind.FILE]
        if items:
            parts.append(gettext("Evidence given by the holder:") + "\n" + "\n".join(items))
        if request.self_declared:
            closing = gettext("Declared by the holder with this evidence and recorded by %(organisation)s "
                              "without assessment.", organisation=organisation_name)
        else:
            closing = gettext("Reviewed and accepted by %(organisation)s through a recognition request.",
                              organisation=organisation_name)
    body = "\n\n".join(part.strip() for part in parts if part.strip())
    room = MAX_NARRATIVE - len(closing) - 4
    if len(body) > room:
        body = body[:room - 1].rstrip() + "…"
    return f"{body}\n\n{closing}"


def _award(request: RecognitionRequest, achievement: Achievement, actor: Any, *, settings: Mapping[str, Any],
           moment: dt.datetime) -> IssuedCredential:
    learner = request.requester
    locale = _locale_of(learner, request.locale, settings)
    first_link = next((item.url for item in request.evidence if item.kind is EvidenceKind.LINK), None)
    credential = issue_credential(
        organisation=request.organisation, achievement=achievement, recipient_email=learner.email,
        recipient_name=learner.name, actor_id=actor_id_of(actor) if actor is not None else None,
        source=CredentialSource.REQUEST, evidence_url=first_link,
        narrative=evidence_narrative(request, request.organisation.name, locale),
        idempotency_key=f"request:{request.public_id}", config=settings, now=moment)
    request.status = RequestStatus.ACCEPTED
    request.achievement_id, request.achievement = achievement.id, achievement
    request.issued_credential_id, request.issued_credential = credential.id, credential
    request.decided_at = moment
    request.decided_by_id = actor_id_of(actor) if actor is not None else None
    _event(request, EventKind.ACCEPTED, request.decided_by_id, "", moment)
    db.session.flush()
    record("recognition.accepted", actor_id=request.decided_by_id, organisation_id=request.organisation_id,
           subject_type="recognition_request", subject_id=request.id,
           details={"credential": credential.public_id, "self_declared": request.self_declared})
    _announce(request)
    return credential


def accept(request: RecognitionRequest, actor: Any, *, achievement: Achievement | None = None,
           settings: Mapping[str, Any], now: dt.datetime | None = None) -> Outcome:
    """Accept an open request and award the badge (the one asked for, else ``achievement``, which must be one of
    the organisation's). The caller queues the award e-mail (``mails.awards.queue_notification``) in the same
    transaction. Raises :class:`RequestNotFound` for a non-reviewer, :class:`WrongStatus`, ``ValidationError``
    (``details.fields.achievement``) when no badge of the organisation is named, and what issuing raises."""
    _require_open_for(request, actor)
    chosen = request.achievement or achievement
    if chosen is None or chosen.organisation_id != request.organisation_id:
        raise ValidationError(details={"fields": {"achievement": _l("Choose one of your organisation's badges.")}})
    credential = _award(request, chosen, actor, settings=settings, moment=now or utcnow())
    return Outcome(request, [], credential)


def ask_more(request: RecognitionRequest, actor: Any, question: str | None, *, settings: Mapping[str, Any],
             now: dt.datetime | None = None) -> Outcome:
    """Ask the learner for more information: the request waits for their answer. Raises
    :class:`RequestNotFound`, :class:`WrongStatus` (also when more was already asked), ``ValidationError``."""
    moment = now or utcnow()
    _require_open_for(request, actor)
    if request.status is RequestStatus.MORE_ASKED:
        raise WrongStatus()
    errors: dict[str, Any] = {}
    text = _text(question, "message", MAX_MESSAGE, errors)
    if errors:
        raise ValidationError(details={"fields": errors})
    request.status = RequestStatus.MORE_ASKED
    _event(request, EventKind.MORE_ASKED, actor_id_of(actor), text, moment)
    db.session.flush()
    record("recognition.more_asked", actor_id=actor_id_of(actor), organisation_id=request.organisation_id,
           subject_type="recognition_request", subject_id=request.id)
    _announce(request)
    return Outcome(request, _to_learner("more_asked", request, text, settings))


def decline(request: RecognitionRequest, actor: Any, reason: str | None, *, settings: Mapping[str, Any],
            now: dt.datetime | None = None) -> Outcome:
    """Decline an open request with a reason, told to the learner. Raises :class:`RequestNotFound`,
    :class:`WrongStatus`, ``ValidationError`` (``details.fields.message``) without a reason."""
    moment = now or utcnow()
    _require_open_for(request, actor)
    errors: dict[str, Any] = {}
    text = _text(reason, "message", MAX_MESSAGE, errors)
    if errors:
        raise ValidationError(details={"fields": errors})
    request.status = RequestStatus.DECLINED
    request.decided_at = moment
    request.decided_by_id = actor_id_of(actor)
    _event(request, EventKind.DECLINED, request.decided_by_id, text, moment)
    db.session.flush()
    record("recognition.declined", actor_id=request.decided_by_id, organisation_id=request.organisation_id,
           subject_type="recognition_request", subject_id=request.id)
    _announce(request)
    return Outcome(request, _to_learner("declined", request, text, settings))
