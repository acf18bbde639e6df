"""Errors of endorsements, with stable codes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from badgehub.errors import BadgeHubError, Conflict, Forbidden, NotFound


class EndorsementNotFound(NotFound):
    code = "endorsement_not_found"
    default_message = _l("There is no such endorsement, or it is not yours to see.")


class InvitationNotFound(NotFound):
    code = "invitation_not_found"
    default_message = _l("This endorsement link does not work: it was closed, it expired, or it was mistyped.")


class CannotEndorse(Forbidden):
    code = "cannot_endorse"
    default_message = _l("You cannot endorse in this organisation's name.")


class SelfEndorsement(Conflict):
    code = "self_endorsement"
    default_message = _l("An organisation cannot endorse itself or its own badges.")


class AlreadyEndorsed(Conflict):
    code = "already_endorsed"
    default_message = _l("This organisation already endorses it.")


class AlreadyWithdrawn(Conflict):
    code = "already_withdrawn"
    default_message = _l("This endorsement was already withdrawn.")


class TooManyInvitations(BadgeHubError):
    code = "too_many_invitations"
    http_status = 429
    default_message = _l("You have made many endorsement links today. Try again tomorrow.")


class OwnCredential(Forbidden):
    code = "own_credential"
    default_message = _l("You cannot endorse your own badge: ask someone who saw what you did.")


class TooManyPersonalEndorsements(BadgeHubError):
    code = "too_many_personal_endorsements"
    http_status = 429
    default_message = _l("You have signed many endorsements in your own name today. Try again tomorrow.")


class AlreadyEndorsedPersonally(AlreadyEndorsed):
    default_message = _l("You already endorse it in your own name.")
