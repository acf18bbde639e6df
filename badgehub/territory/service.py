"""Territories and their registry of member organisations.

Authorisation rules of the territory side (written here and nowhere else):

* **Coordinators decide.** Only a coordinator of a territory, or a platform admin, decides on the
  memberships of that territory: approve, reject, suspend, reinstate, remove (:func:`require_coordinator`).
  Being coordinator of one territory gives no right in another.
* **Owners ask.** Only an owner of an organisation in good standing asks to join a territory
  (:func:`request_membership`; the organisation side of the rules is in ``badgehub.organisations.service``).
* **Reasons are owed.** Rejecting, suspending and removing need a reason, which the organisation reads.
* Every request and every decision is an audit event.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from badgehub.audit.models import AuditEvent
from badgehub.audit.service import record
from badgehub.db import utcnow
from badgehub.errors import Conflict, NotFound, ValidationError
from badgehub.extensions import db
from badgehub.fields import FieldError, block
from badgehub.organisations.models import Organisation, Sector
from badgehub.organisations.service import TERRITORY_MANAGERS, require_good_standing, require_member
from badgehub.territory.errors import DecisionNotAllowed, MembershipExists, NotCoordinator, ReasonRequired
from badgehub.territory.models import Area, MembershipStatus, Territory, TerritoryCoordinator, TerritoryMembership

# SLUG_PATTERN and validate_slug are re-exported: the slug rule is written in territory.slugs, for territories
# and organisations alike.
from badgehub.territory.slugs import SLUG_PATTERN as SLUG_PATTERN
from badgehub.territory.slugs import name_sort_key
from badgehub.territory.slugs import validate_slug as validate_slug

if TYPE_CHECKING:
    import datetime as dt

    from badgehub.accounts.models import User

MAX_TEXT = 2000


def create_territory(*, name: str, slug: str, description: str = "", charter: str = "",
                     default_locale: str = "fr", areas: list[tuple[str, str]] | None = None,
                     actor_id: int | None = None) -> Territory:
    """Create a territory with its areas ``[(code, name), …]``; raises Conflict on a taken slug."""
    slug = validate_slug(slug)
    if db.session.scalar(select(Territory.id).where(Territory.slug == slug)) is not None:
        raise Conflict(_l("A territory with this address already exists."), details={"field": "slug"})
    territory = Territory(name=name.strip(), slug=slug, description=description, charter=charter,
                          default_locale=default_locale)
    territory.areas = [Area(code=code, name=area_name) for code, area_name in (areas or [])]
    db.session.add(territory)
    db.session.flush()
    record("territory.created", actor_id=actor_id, territory_id=territory.id, subject_type="territory",
           subject_id=territory.id)
    return territory


def get_territory_by_slug(slug: str) -> Territory:
    """Return the territory with this slug; raises NotFound."""
    territory = db.session.scalar(select(Territory).where(Territory.slug == slug))
    if territory is None:
        raise NotFound()
    return territory


def add_coordinator(*, territory_slug: str, user: User, actor_id: int | None) -> None:
    """Make ``user`` a coordinator of the territory (idempotent); raises NotFound for an unknown slug."""
    territory = get_territory_by_slug(territory_slug)
    exists = db.session.scalar(select(TerritoryCoordinator.id).where(
        TerritoryCoordinator.territory_id == territory.id, TerritoryCoordinator.user_id == user.id))
    if exists is None:
        db.session.add(TerritoryCoordinator(territory_id=territory.id, user_id=user.id))
        record("territory.coordinator_added", actor_id=actor_id, territory_id=territory.id,
               subject_type="user", subject_id=user.id)
        db.session.flush()


def is_coordinator(territory: Territory, user: Any) -> bool:
    """True when ``user`` may decide on the territory's memberships: a coordinator of it, or a platform admin."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "is_admin", False):
        return True
    return db.session.scalar(select(TerritoryCoordinator.id).where(
        TerritoryCoordinator.territory_id == territory.id, TerritoryCoordinator.user_id == user.id)) is not None


def require_coordinator(territory: Territory, user: Any) -> None:
    """Raise NotCoordinator (403) unless ``user`` coordinates ``territory`` or is a platform admin."""
    if not is_coordinator(territory, user):
        raise NotCoordinator()


def coordinated_territories(user: Any) -> list[Territory]:
    """The territories ``user`` coordinates, by name (every territory for a platform admin)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    query = select(Territory).order_by(Territory.name)
    if not getattr(user, "is_admin", False):
        query = query.join(TerritoryCoordinator, TerritoryCoordinator.territory_id == Territory.id).where(
            TerritoryCoordinator.user_id == user.id)
    return list(db.session.scalars(query))


def coordinates_anything(user: Any) -> bool:
    """True when ``user`` is a platform admin or coordinates at least one territory (for the menu)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "is_admin", False):
        return True
    return db.session.scalar(
        select(TerritoryCoordinator.id).where(TerritoryCoordinator.user_id == user.id).limit(1)) is not None


class Decision(enum.StrEnum):
    """What a coordinator decides on a membership."""

    APPROVE = "approve"
    REJECT = "reject"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    REMOVE = "remove"


@dataclass(frozen=True)
class Transition:
    """One decision: from which statuses it applies, the status it leads to, and whether a reason is owed."""

    applies_to: frozenset[MembershipStatus]
    leads_to: MembershipStatus
    reason_required: bool
    action: str


TRANSITIONS: dict[Decision, Transition] = {
    Decision.APPROVE: Transition(frozenset({MembershipStatus.PENDING}), MembershipStatus.APPROVED, False,
                                 "territory.membership_approved"),
    Decision.REJECT: Transition(frozenset({MembershipStatus.PENDING}), MembershipStatus.REJECTED, True,
                                "territory.membership_rejected"),
    Decision.SUSPEND: Transition(frozenset({MembershipStatus.APPROVED}), MembershipStatus.SUSPENDED, True,
                                 "territory.membership_suspended"),
    Decision.REINSTATE: Transition(frozenset({MembershipStatus.SUSPENDED}), MembershipStatus.APPROVED, False,
                                   "territory.membership_reinstated"),
    Decision.REMOVE: Transition(frozenset({MembershipStatus.APPROVED, MembershipStatus.SUSPENDED}),
                                MembershipStatus.REMOVED, True, "territory.membership_removed"),
}

MEMBERSHIP_ACTIONS = ("territory.membership_requested", *(t.action for t in TRANSITIONS.values()))


def allowed_decisions(status: MembershipStatus) -> tuple[Decision, ...]:
    """The decisions a coordinator can take on a membership in ``status``, in the order they are offered."""
    return tuple(decision for decision, transition in TRANSITIONS.items() if status in transition.applies_to)


def _clean_text(value: str, field: str) -> str:
    try:
        return block(value, MAX_TEXT)
    except FieldError as error:
        raise ValidationError(error.message, details={"field": field}) from None


def get_membership_in(territory: Territory, membership_id: int) -> TerritoryMembership:
    """Return the membership ``membership_id`` of ``territory``; raises NotFound (also for another territory's)."""
    membership = db.session.scalar(select(TerritoryMembership).where(
        TerritoryMembership.id == membership_id, TerritoryMembership.territory_id == territory.id))
    if membership is None:
        raise NotFound()
    return membership


def request_membership(organisation: Organisation, territory: Territory, actor: Any, message: str = "", *,
                       now: dt.datetime | None = None) -> TerritoryMembership:
    """Ask for ``organisation`` to join ``territory``'s registry; the membership is pending until decided.

    Only owners ask, and only while the organisation is in good standing. An organisation that was rejected
    or removed may ask again: the same record becomes pending anew (its history stays in the audit trail),
    and its "member since" date starts over when approved. Raises NotFound / Forbidden (see
    ``require_member``), OrganisationSuspended, ValidationError (``details["field"] == "message"``),
    MembershipExists when a request is pending or the organisation is already a member.
    """
    require_member(organisation, actor, *TERRITORY_MANAGERS)
    require_good_standing(organisation)
    text = _clean_text(message, "message")
    moment = now or utcnow()
    membership = db.session.scalar(select(TerritoryMembership).where(
        TerritoryMembership.territory_id == territory.id, TerritoryMembership.organisation_id == organisation.id))
    if membership is not None and membership.status not in (MembershipStatus.REJECTED, MembershipStatus.REMOVED):
        raise MembershipExists()
    if membership is None:
        membership = TerritoryMembership(territory_id=territory.id, organisation_id=organisation.id)
        db.session.add(membership)
    membership.status = MembershipStatus.PENDING
    membership.requested_at = moment
    membership.requested_by_id = actor.id
    membership.message = text
    membership.decided_at = None
    membership.decided_by_id = None
    membership.reason = ""
    membership.member_since = None
    db.session.flush()
    record("territory.membership_requested", actor_id=actor.id, organisation_id=organisation.id,
           territory_id=territory.id, subject_type="territory_membership", subject_id=membership.id)
    db.session.flush()
    return membership


def decide_membership(membership: TerritoryMembership, decision: Decision | str, actor: Any, reason: str = "", *,
                      now: dt.datetime | None = None) -> TerritoryMembership:
    """Take a coordinator's ``decision`` on a membership and record it in the audit trail.

    approve (pending → approved; "member since" is set), reject (pending → rejected), suspend (approved →
    suspended: the organisation loses its rights, see ``organisation_standing``), reinstate (suspended →
    approved; "member since" is kept), remove (approved or suspended → removed). Rejecting, suspending and
    removing need a ``reason``. Raises NotCoordinator, ValidationError (unknown decision; reason too long),
    ReasonRequired, DecisionNotAllowed when the decision does not apply to the current status (for instance
    when another coordinator decided first).
    """
    require_coordinator(membership.territory, actor)
    try:
        chosen = Decision(decision)
    except ValueError as exc:
        raise ValidationError(_l("Choose one of the values offered."), details={"field": "decision"}) from exc
    transition = TRANSITIONS[chosen]
    text = _clean_text(reason, "reason")
    if transition.reason_required and not text:
        raise ReasonRequired(details={"field": "reason"})
    # Re-read the row under a lock so that two coordinators deciding at once see each other's decision.
    current = db.session.scalars(
        select(TerritoryMembership).where(TerritoryMembership.id == membership.id)
        .with_for_update().execution_options(populate_existing=True)).one()
    previous = current.status
    if previous not in transition.applies_to:
        raise DecisionNotAllowed()
    moment = now or utcnow()
    current.status = transition.leads_to
    current.decided_at = moment
    current.decided_by_id = actor.id
    current.reason = text
    if chosen == Decision.APPROVE and current.member_since is None:
        current.member_since = moment
    details: dict[str, Any] = {"from": previous.value, "to": transition.leads_to.value}
    if text:
        # A statement about an organisation's membership, not about a person: it belongs to the history.
        details["reason"] = text
    record(transition.action, actor_id=actor.id, organisation_id=current.organisation_id,
           territory_id=current.territory_id, subject_type="territory_membership", subject_id=current.id,
           details=details)
    db.session.flush()
    return current


@dataclass(frozen=True)
class ReviewQueue:
    """A territory's memberships as a coordinator reviews them."""

    pending: list[TerritoryMembership]
    current: list[TerritoryMembership]
    past: list[TerritoryMembership]


def memberships_for_review(territory: Territory) -> ReviewQueue:
    """Pending requests (oldest first), current members (approved and suspended, by name), past ones."""
    memberships = db.session.scalars(
        select(TerritoryMembership).where(TerritoryMembership.territory_id == territory.id)
        .options(selectinload(TerritoryMembership.organisation))).all()

    def by_name(items: Sequence[TerritoryMembership]) -> list[TerritoryMembership]:
        return sorted(items, key=lambda m: (name_sort_key(m.organisation.name), m.id))

    pending = sorted((m for m in memberships if m.status == MembershipStatus.PENDING),
                     key=lambda m: (m.requested_at, m.id))
    current = by_name([m for m in memberships
                       if m.status in (MembershipStatus.APPROVED, MembershipStatus.SUSPENDED)])
    past = by_name([m for m in memberships if m.status in (MembershipStatus.REJECTED, MembershipStatus.REMOVED)])
    return ReviewQueue(pending=pending, current=current, past=past)


def approved_members_by_sector(territory: Territory) -> list[tuple[Sector, list[Organisation]]]:
    """The territory's public registry: approved organisations grouped by sector (sectors in their declared
    order, organisations by name). Pending, suspended, rejected and removed ones are not listed."""
    organisations = db.session.scalars(
        select(Organisation).join(TerritoryMembership, TerritoryMembership.organisation_id == Organisation.id)
        .where(TerritoryMembership.territory_id == territory.id,
               TerritoryMembership.status == MembershipStatus.APPROVED)).all()
    grouped: list[tuple[Sector, list[Organisation]]] = []
    for sector in Sector:
        members = sorted((o for o in organisations if o.sector == sector), key=lambda o: (name_sort_key(o.name), o.id))
        if members:
            grouped.append((sector, members))
    return grouped


def memberships_of(organisation: Organisation) -> list[TerritoryMembership]:
    """Every membership record of the organisation, by territory name (for its own staff)."""
    return list(db.session.scalars(
        select(TerritoryMembership).join(TerritoryMembership.territory)
        .where(TerritoryMembership.organisation_id == organisation.id)
        .options(selectinload(TerritoryMembership.territory)).order_by(Territory.name)))


def territories_open_to(organisation: Organisation) -> list[Territory]:
    """Territories the organisation can ask to join: those where it is not pending, approved or suspended."""
    engaged = select(TerritoryMembership.territory_id).where(
        TerritoryMembership.organisation_id == organisation.id,
        TerritoryMembership.status.in_([MembershipStatus.PENDING, MembershipStatus.APPROVED,
                                        MembershipStatus.SUSPENDED]))
    return list(db.session.scalars(select(Territory).where(Territory.id.not_in(engaged)).order_by(Territory.name)))


def decision_history(territory: Territory, *, limit: int = 200) -> list[AuditEvent]:
    """The territory's membership requests and decisions from the audit trail, newest first."""
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.territory_id == territory.id, AuditEvent.action.in_(MEMBERSHIP_ACTIONS))
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(limit)))
