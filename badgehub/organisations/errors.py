"""Errors of the organisations domain, each with a stable code."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from badgehub.errors import BadgeHubError, Conflict, Forbidden


class OrganisationSuspended(Forbidden):
    """The organisation is suspended in a territory: it may read, not publish or grant."""

    code = "organisation_suspended"
    default_message = _l("This organisation is suspended: publishing, inviting staff and joining territories "
                         "are paused until a coordinator reinstates it. You can still read everything.")


class SlugTaken(Conflict):
    code = "slug_taken"
    default_message = _l("Another organisation already uses this address.")


class LastOwner(Conflict):
    code = "last_owner"
    default_message = _l("An organisation must keep at least one owner. Make someone else an owner first.")


class AlreadyMember(Conflict):
    code = "already_member"
    default_message = _l("This person is already a member of the organisation.")


class InvalidInvitation(BadgeHubError):
    code = "invalid_invitation"
    http_status = 400
    default_message = _l("This invitation is invalid, has expired, has been withdrawn or has already been used. "
                         "Ask the organisation for a new one.")


class InvitationForAnotherAddress(Forbidden):
    code = "invitation_wrong_address"
    default_message = _l("This invitation was sent to another e-mail address. Sign in with the address that "
                         "received it to accept it.")


class EmailNotVerified(Forbidden):
    code = "email_not_verified"
    default_message = _l("Confirm your e-mail address first, then open the invitation again.")
