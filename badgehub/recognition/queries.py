"""Who sees which request, and the lists of requests: read-only, and the one place the access rule is written.

* The **learner** who made a request sees it, its evidence and its conversation.
* The **reviewers** of the organisation asked see it and decide: its owners and issuers, its API tokens, and for
  a territory's issuer the territory's coordinators (:func:`badgehub.endorsements.territory_issuers.acts_for`).
* Its **viewers** (staff who read everything and change nothing) see it too, without deciding.
* Anybody else gets :class:`RequestNotFound` (404), as if the request did not exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload, undefer

from badgehub.accounts.models import User
from badgehub.endorsements.territory_issuers import acts_for, territory_of_issuer
from badgehub.extensions import db
from badgehub.organisations.models import Organisation, OrganisationMember
from badgehub.organisations.service import BADGE_ISSUERS, membership_of
from badgehub.recognition.errors import EvidenceNotFound, RequestNotFound
from badgehub.recognition.models import (
    OPEN_STATUSES,
    EvidenceKind,
    RecognitionRequest,
    RequestEvidence,
    RequestStatus,
)
from badgehub.territory.models import TerritoryCoordinator as Coordinator


def _user_id(actor: Any) -> int | None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    return getattr(actor, "id", None)


def can_review(organisation: Organisation, actor: Any) -> bool:
    """Whether ``actor`` reviews ``organisation``'s requests (see the module docstring)."""
    return acts_for(organisation, actor)


def can_read(organisation: Organisation, actor: Any) -> bool:
    """Whether ``actor`` reads ``organisation``'s requests: a reviewer, or any member of its staff."""
    return can_review(organisation, actor) or (
        _user_id(actor) is not None and membership_of(organisation, actor) is not None)


def _by_public_id(public_id: str, *, whole: bool = True) -> RecognitionRequest:
    """The request ``public_id``, with its evidence and conversation when ``whole`` (its pages show them);
    :class:`RequestNotFound` when there is none."""
    query = select(RecognitionRequest).where(RecognitionRequest.public_id == public_id)
    if whole:
        query = query.options(selectinload(RecognitionRequest.evidence), selectinload(RecognitionRequest.events))
    found: RecognitionRequest | None = db.session.scalar(query)
    if found is None:
        raise RequestNotFound()
    return found


def request_for_learner(actor: Any, public_id: str) -> RecognitionRequest:
    """The request ``public_id`` made by ``actor``; :class:`RequestNotFound` for anyone else's."""
    found = _by_public_id(public_id)
    if _user_id(actor) is None or found.requester_id != _user_id(actor):
        raise RequestNotFound()
    return found


def request_for_reviewer(organisation: Organisation, actor: Any, public_id: str) -> RecognitionRequest:
    """The request ``public_id`` made to ``organisation``, for its staff (:func:`can_read`; deciding is checked
    by the service); :class:`RequestNotFound` when it was made to another organisation or ``actor`` is not
    staff of this one."""
    if not can_read(organisation, actor):
        raise RequestNotFound()
    found = _by_public_id(public_id)
    if found.organisation_id != organisation.id:
        raise RequestNotFound()
    return found


def may_see(request: RecognitionRequest, actor: Any) -> bool:
    """Whether ``actor`` may see ``request`` and its files: its learner or the staff of its organisation."""
    user_id = _user_id(actor)
    return (user_id is not None and request.requester_id == user_id) or can_read(request.organisation, actor)


def evidence_for(actor: Any, request_public_id: str, evidence_public_id: str) -> RequestEvidence:
    """One file given as evidence, with its bytes, for someone who may see its request; :class:`EvidenceNotFound`
    (404) for anyone else, and for a link (it has no bytes to download)."""
    try:
        found = _by_public_id(request_public_id, whole=False)  # a download needs neither the list nor the talk
    except RequestNotFound:
        raise EvidenceNotFound() from None
    if not may_see(found, actor):
        raise EvidenceNotFound()
    evidence: RequestEvidence | None = db.session.scalar(
        select(RequestEvidence).where(RequestEvidence.request_id == found.id,
                                      RequestEvidence.public_id == evidence_public_id,
                                      RequestEvidence.kind == EvidenceKind.FILE)
        .options(undefer(RequestEvidence.data)))
    if evidence is None:
        raise EvidenceNotFound()
    return evidence


def requests_of(actor: Any) -> list[RecognitionRequest]:
    """The requests ``actor`` made, newest first."""
    user_id = _user_id(actor)
    if user_id is None:
        return []
    return list(db.session.scalars(
        select(RecognitionRequest).where(RecognitionRequest.requester_id == user_id)
        .options(selectinload(RecognitionRequest.organisation))
        .order_by(RecognitionRequest.updated_at.desc(), RecognitionRequest.id.desc())))


def queue_of(organisation: Organisation, statuses: Sequence[RequestStatus] = OPEN_STATUSES, *,
             limit: int | None = None, offset: int = 0) -> list[RecognitionRequest]:
    """The requests made to ``organisation`` in ``statuses``: oldest waiting first for open ones, the most
    recently decided first otherwise; ``limit`` of them from ``offset`` when given (a page of the API)."""
    order = (RecognitionRequest.updated_at.asc() if set(statuses) <= set(OPEN_STATUSES)
             else RecognitionRequest.updated_at.desc())
    query = (select(RecognitionRequest).where(RecognitionRequest.organisation_id == organisation.id,
                                              RecognitionRequest.status.in_(list(statuses)))
             .options(selectinload(RecognitionRequest.requester), selectinload(RecognitionRequest.evidence),
                      selectinload(RecognitionRequest.events), selectinload(RecognitionRequest.achievement),
                      selectinload(RecognitionRequest.issued_credential))
             .order_by(order, RecognitionRequest.id))
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return list(db.session.scalars(query))


def queue_count(organisation: Organisation, statuses: Sequence[RequestStatus] = OPEN_STATUSES) -> int:
    """How many requests made to ``organisation`` are in ``statuses``."""
    return int(db.session.scalar(select(func.count(RecognitionRequest.id)).where(
        RecognitionRequest.organisation_id == organisation.id,
        RecognitionRequest.status.in_(list(statuses)))) or 0)


def waiting_count(organisation: Organisation) -> int:
    """How many requests wait for the organisation's decision."""
    return queue_count(organisation, (RequestStatus.SUBMITTED,))


def open_count_of(user_id: int) -> int:
    return int(db.session.scalar(select(func.count(RecognitionRequest.id)).where(
        RecognitionRequest.requester_id == user_id, RecognitionRequest.status.in_(OPEN_STATUSES))) or 0)


def open_count_for(organisation_id: int) -> int:
    return int(db.session.scalar(select(func.count(RecognitionRequest.id)).where(
        RecognitionRequest.organisation_id == organisation_id,
        RecognitionRequest.status.in_(OPEN_STATUSES))) or 0)


def reviewers_of(organisation: Organisation) -> list[User]:
    """The people to tell about a new request or an answer: the owners and issuers, and for a territory's issuer
    the territory's coordinators; each once, by id."""
    found = {user.id: user for user in db.session.scalars(
        select(User).join(OrganisationMember, OrganisationMember.user_id == User.id)
        .where(OrganisationMember.organisation_id == organisation.id, OrganisationMember.role.in_(BADGE_ISSUERS)))}
    territory = territory_of_issuer(organisation)
    if territory is not None:
        for user in db.session.scalars(select(User).join(Coordinator, Coordinator.user_id == User.id)
                                       .where(Coordinator.territory_id == territory.id)):
            found.setdefault(user.id, user)
    return [found[key] for key in sorted(found)]
