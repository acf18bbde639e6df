"""An organisation's staff: members, their roles and the invitations that make new ones.

The rights themselves are decided in :mod:`badgehub.organisations.service` (:func:`require_member`): owners
manage staff; the last owner can be neither removed nor demoted (:class:`LastOwner`). Services flush and
never commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from badgehub.accounts.errors import InvalidEmail
from badgehub.accounts.models import User
from badgehub.accounts.service import normalise_email
from badgehub.audit.service import record
from badgehub.db import utcnow
from badgehub.errors import Forbidden, NotFound, ValidationError
from badgehub.extensions import db
from badgehub.fields import email_key
from badgehub.organisations.errors import (
    AlreadyMember,
    EmailNotVerified,
    InvalidInvitation,
    InvitationForAnotherAddress,
    LastOwner,
)
from badgehub.organisations.models import Invitation, Organisation, OrganisationMember, Role
from badgehub.organisations.service import (
    INVITATION_LIFETIME,
    ROLE_RANK,
    STAFF_MANAGERS,
    _user_id,
    membership_of,
    pending_invitations,
    require_good_standing,
    require_member,
)


def _parse_role(role: Any) -> Role:
    try:
        return Role(role)
    except ValueError as exc:
        raise ValidationError(_l("Choose one of the values offered."), details={"field": "role"}) from exc


def _member_in(organisation: Organisation, member_id: int) -> OrganisationMember:
    member = db.session.scalar(select(OrganisationMember).where(
        OrganisationMember.id == member_id, OrganisationMember.organisation_id == organisation.id))
    if member is None:
        raise NotFound()
    return member


def _ensure_another_owner(organisation: Organisation, leaving: OrganisationMember) -> None:
    # Lock the owners' rows (PostgreSQL; SQLite serialises writers anyway) so that two owners demoting each
    # other at the same moment cannot both succeed and leave the organisation with none.
    owners = db.session.scalars(
        select(OrganisationMember.id).where(OrganisationMember.organisation_id == organisation.id,
                                            OrganisationMember.role == Role.OWNER)
        .with_for_update()).all()
    if not [owner_id for owner_id in owners if owner_id != leaving.id]:
        raise LastOwner()


def add_member(organisation: Organisation, actor: Any, user: User, role: Role | str) -> OrganisationMember:
    """Make ``user`` staff of the organisation with ``role`` directly (no invitation); owners only.

    For scripts and seeding; people use invitations. Raises NotFound / Forbidden, OrganisationSuspended,
    ValidationError for an unknown role, AlreadyMember.
    """
    require_member(organisation, actor, *STAFF_MANAGERS)
    require_good_standing(organisation)
    wanted = _parse_role(role)
    if membership_of(organisation, user) is not None:
        raise AlreadyMember()
    member = OrganisationMember(organisation_id=organisation.id, user_id=user.id, role=wanted)
    db.session.add(member)
    db.session.flush()
    record("organisation.member_added", actor_id=_user_id(actor), organisation_id=organisation.id,
           subject_type="user", subject_id=user.id, details={"role": wanted.value})
    db.session.flush()
    return member


def appoint_owner(organisation: Organisation, user: User) -> OrganisationMember:
    """Make ``user`` an owner of ``organisation`` on the installation operator's authority (the command line:
    no signed-in owner is needed, as when bootstrapping or when every owner has left). A staff member is
    promoted; the audit trail records it with no actor. Raises ValidationError when ``user`` has not
    confirmed their address."""
    if not user.is_verified:
        raise ValidationError(_l("Confirm your e-mail address before creating an organisation."))
    member = membership_of(organisation, user)
    if member is None:
        member = OrganisationMember(organisation_id=organisation.id, user_id=user.id, role=Role.OWNER)
        db.session.add(member)
        action, details = "organisation.member_added", {"role": Role.OWNER.value}
    elif member.role is Role.OWNER:
        return member
    else:
        action, details = "organisation.member_role_changed", {"from": member.role.value, "to": Role.OWNER.value}
        member.role = Role.OWNER
    db.session.flush()
    record(action, actor_id=None, organisation_id=organisation.id, subject_type="user", subject_id=user.id,
           details=details)
    db.session.flush()
    return member


def change_role(organisation: Organisation, actor: Any, member_id: int, role: Role | str) -> OrganisationMember:
    """Give the staff member ``member_id`` a new role; owners only.

    Raising a role is a grant, refused while the organisation is suspended; lowering one is always allowed,
    except that the last owner cannot be demoted. Raises NotFound (unknown member, or one of another
    organisation), Forbidden, ValidationError, OrganisationSuspended, LastOwner.
    """
    require_member(organisation, actor, *STAFF_MANAGERS)
    wanted = _parse_role(role)
    member = _member_in(organisation, member_id)
    previous = member.role
    if wanted == previous:
        return member
    if ROLE_RANK[wanted] > ROLE_RANK[previous]:
        require_good_standing(organisation)
    if previous == Role.OWNER:
        _ensure_another_owner(organisation, member)
    member.role = wanted
    record("organisation.member_role_changed", actor_id=_user_id(actor), organisation_id=organisation.id,
           subject_type="user", subject_id=member.user_id, details={"from": previous.value, "to": wanted.value})
    db.session.flush()
    return member


def remove_member(organisation: Organisation, actor: Any, member_id: int) -> None:
    """Remove a staff member; owners remove anyone, and any member may remove themselves (leave).

    Raises NotFound (unknown member, one of another organisation, or an actor who is not staff), Forbidden
    (a non-owner removing someone else), LastOwner.
    """
    acting = require_member(organisation, actor)
    member = _member_in(organisation, member_id)
    if member.id != acting.id and acting.role not in STAFF_MANAGERS:
        raise Forbidden(_l("Your role in this organisation does not allow this. Ask one of its owners."))
    if member.role == Role.OWNER:
        _ensure_another_owner(organisation, member)
    user_id = member.user_id
    db.session.delete(member)
    record("organisation.member_removed", actor_id=_user_id(actor), organisation_id=organisation.id,
           subject_type="user", subject_id=user_id, details={"role": member.role.value})
    db.session.flush()



def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def invite_member(organisation: Organisation, actor: Any, email: str, role: Role | str, *,
                  now: dt.datetime | None = None) -> tuple[Invitation, str]:
    """Invite ``email`` to join the staff with ``role``; owners only. Returns ``(invitation, token)``.

    The token is returned once, to be put in the e-mail; only its SHA-256 is stored. An earlier pending
    invitation to the same address is withdrawn, so one link at most works per person. Raises NotFound /
    Forbidden, OrganisationSuspended, ValidationError (``details["field"]`` is ``email`` or ``role``),
    AlreadyMember when that address already belongs to a staff member.
    """
    require_member(organisation, actor, *STAFF_MANAGERS)
    require_good_standing(organisation)
    try:
        address = normalise_email(email)
    except InvalidEmail as exc:
        raise ValidationError(exc.message, details={"field": "email"}) from exc
    wanted = _parse_role(role)
    key = email_key(address)
    existing = db.session.scalar(
        select(OrganisationMember.id).join(User, User.id == OrganisationMember.user_id)
        .where(OrganisationMember.organisation_id == organisation.id, User.email_key == key))
    if existing is not None:
        raise AlreadyMember(details={"field": "email"})
    moment = now or utcnow()
    for earlier in pending_invitations(organisation, now=moment):
        if email_key(earlier.email) == key:
            earlier.revoked_at = moment
            record("organisation.invitation_revoked", actor_id=_user_id(actor), organisation_id=organisation.id,
                   subject_type="invitation", subject_id=earlier.id, details={"replaced": True})
    token = secrets.token_urlsafe(32)
    invitation = Invitation(organisation_id=organisation.id, email=address, role=wanted,
                            token_hash=_hash_token(token), invited_by_id=_user_id(actor), created_at=moment,
                            expires_at=moment + INVITATION_LIFETIME)
    db.session.add(invitation)
    db.session.flush()
    record("organisation.member_invited", actor_id=_user_id(actor), organisation_id=organisation.id,
           subject_type="invitation", subject_id=invitation.id, details={"role": wanted.value})
    db.session.flush()
    return invitation, token


def revoke_invitation(organisation: Organisation, actor: Any, invitation_id: int, *,
                      now: dt.datetime | None = None) -> Invitation:
    """Withdraw a pending invitation; owners only. Allowed while suspended (it grants nothing).

    Raises NotFound / Forbidden, and NotFound for an invitation of another organisation or one that can no
    longer be accepted.
    """
    require_member(organisation, actor, *STAFF_MANAGERS)
    moment = now or utcnow()
    invitation = db.session.scalar(select(Invitation).where(
        Invitation.id == invitation_id, Invitation.organisation_id == organisation.id,
        Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None)))
    if invitation is None:
        raise NotFound()
    invitation.revoked_at = moment
    record("organisation.invitation_revoked", actor_id=_user_id(actor), organisation_id=organisation.id,
           subject_type="invitation", subject_id=invitation.id)
    db.session.flush()
    return invitation


def find_invitation(token: str, *, now: dt.datetime | None = None) -> Invitation:
    """Return the invitation a token opens, if it can still be accepted; raises InvalidInvitation."""
    if not token or len(token) > 200:
        raise InvalidInvitation()
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == _hash_token(token)))
    moment = now or utcnow()
    if (invitation is None or invitation.accepted_at is not None or invitation.revoked_at is not None
            or invitation.expires_at <= moment):
        raise InvalidInvitation()
    return invitation


def invitation_is_for(invitation: Invitation, user: Any) -> bool:
    """True when ``user`` is signed in with the address the invitation was sent to (the email_key rule)."""
    return _user_id(user) is not None and email_key(user.email) == email_key(invitation.email)


def accept_invitation(token: str, user: Any, *, now: dt.datetime | None = None) -> OrganisationMember:
    """Accept an invitation: ``user`` joins the staff with the invited role. Each token works once.

    The user must be signed in with the invited address, verified. Joining is a grant, so it waits while the
    organisation is suspended. Raises InvalidInvitation (unknown, used, withdrawn or expired),
    InvitationForAnotherAddress, EmailNotVerified, OrganisationSuspended, AlreadyMember.
    """
    moment = now or utcnow()
    invitation = find_invitation(token, now=moment)
    if not invitation_is_for(invitation, user):
        raise InvitationForAnotherAddress()
    if not user.is_verified:
        raise EmailNotVerified()
    organisation = invitation.organisation
    require_good_standing(organisation)
    if membership_of(organisation, user) is not None:
        raise AlreadyMember()
    # Claim the invitation with a conditional UPDATE: of two simultaneous acceptances only one changes a row.
    claimed = db.session.execute(
        update(Invitation).where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None),
                                 Invitation.revoked_at.is_(None))
        .values(accepted_at=moment).execution_options(synchronize_session="fetch"))
    if getattr(claimed, "rowcount", 0) != 1:
        raise InvalidInvitation()
    member = OrganisationMember(organisation_id=organisation.id, user_id=user.id, role=invitation.role)
    db.session.add(member)
    db.session.flush()
    record("organisation.invitation_accepted", actor_id=user.id, organisation_id=organisation.id,
           subject_type="invitation", subject_id=invitation.id, details={"role": invitation.role.value})
    record("organisation.member_added", actor_id=user.id, organisation_id=organisation.id,
           subject_type="user", subject_id=user.id, details={"role": invitation.role.value})
    db.session.flush()
    return member


def staff_roles() -> Sequence[Role]:
    """Roles in the order they are offered: from the fewest rights to the most."""
    return sorted(Role, key=lambda role: ROLE_RANK[role])
