"""Errors of the territory domain, each with a stable code."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from badgehub.errors import Conflict, Forbidden, ValidationError


class NotCoordinator(Forbidden):
    code = "not_coordinator"
    default_message = _l("Only the coordinators of this territory can do this.")


class ReasonRequired(ValidationError):
    code = "reason_required"
    default_message = _l("Give a reason: the organisation will read it.")


class DecisionNotAllowed(Conflict):
    code = "decision_not_allowed"
    default_message = _l("This decision does not apply to the membership as it is now. Reload the page.")


class MembershipExists(Conflict):
    code = "membership_exists"
    default_message = _l("This organisation has already asked to join this territory, or is already a member.")
