"""Translatable labels of the domain's enums, in one place for pages, forms and e-mails.

Templates use the ``label`` filter (``{{ organisation.sector|label }}``); forms use :func:`choices`.
"""

from __future__ import annotations

import enum
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice

from badgehub.issuing.models import RevocationReason
from badgehub.organisations.models import OrganisationType, Role, Sector
from badgehub.territory.models import MembershipStatus
from badgehub.territory.service import Decision

SECTOR_LABELS: dict[Sector, Any] = {
    Sector.CIVIC: _l("Civic life and governance"),
    Sector.ECONOMIC: _l("Economic life"),
    Sector.PUBLIC_SERVICES: _l("Public services"),
    Sector.EDUCATION: _l("Education and training"),
    Sector.COMMUNITY: _l("Community and volunteering"),
}

ORGANISATION_TYPE_LABELS: dict[OrganisationType, Any] = {
    OrganisationType.ASSOCIATION: _l("Association"),
    OrganisationType.COMPANY: _l("Company"),
    OrganisationType.LIBRARY: _l("Library"),
    OrganisationType.MUSEUM: _l("Museum"),
    OrganisationType.SCHOOL: _l("School"),
    OrganisationType.UNIVERSITY: _l("University"),
    OrganisationType.TRAINING_CENTRE: _l("Training centre"),
    OrganisationType.LOCAL_AUTHORITY: _l("Local authority"),
    OrganisationType.PUBLIC_SERVICE: _l("Public service"),
    OrganisationType.OTHER: _l("Other"),
}

ROLE_LABELS: dict[Role, Any] = {
    Role.OWNER: _l("Owner"),
    Role.ISSUER: _l("Issuer"),
    Role.VIEWER: _l("Viewer"),
}

ROLE_DESCRIPTIONS: dict[Role, Any] = {
    Role.OWNER: _l("edits the profile, manages staff and territories, issues badges"),
    Role.ISSUER: _l("issues badges"),
    Role.VIEWER: _l("sees everything, changes nothing"),
}

MEMBERSHIP_STATUS_LABELS: dict[MembershipStatus, Any] = {
    MembershipStatus.PENDING: _l("Pending"),
    MembershipStatus.APPROVED: _l("Approved"),
    MembershipStatus.SUSPENDED: _l("Suspended"),
    MembershipStatus.REMOVED: _l("Removed"),
    MembershipStatus.REJECTED: _l("Rejected"),
}

# The style of each status badge; the text always says the status too (never colour alone).
MEMBERSHIP_STATUS_TONES: dict[MembershipStatus, str] = {
    MembershipStatus.PENDING: "warn",
    MembershipStatus.APPROVED: "ok",
    MembershipStatus.SUSPENDED: "bad",
    MembershipStatus.REMOVED: "bad",
    MembershipStatus.REJECTED: "bad",
}

DECISION_LABELS: dict[Decision, Any] = {
    Decision.APPROVE: _l("Approve"),
    Decision.REJECT: _l("Reject"),
    Decision.SUSPEND: _l("Suspend"),
    Decision.REINSTATE: _l("Reinstate"),
    Decision.REMOVE: _l("Remove"),
}

AUDIT_ACTION_LABELS: dict[str, Any] = {
    "territory.membership_requested": _l("Asked to join"),
    "territory.membership_approved": _l("Approved"),
    "territory.membership_rejected": _l("Rejected"),
    "territory.membership_suspended": _l("Suspended"),
    "territory.membership_reinstated": _l("Reinstated"),
    "territory.membership_removed": _l("Removed"),
}

REVOCATION_REASON_LABELS: dict[RevocationReason, Any] = {
    RevocationReason.ERROR: _l("Error in the award"),
    RevocationReason.FRAUD: _l("Fraud"),
    RevocationReason.LEARNER_REQUEST: _l("Withdrawn at the learner's request"),
    RevocationReason.OTHER: _l("Other reason"),
}

_BY_TYPE: dict[type[Any], dict[Any, Any]] = {
    RevocationReason: REVOCATION_REASON_LABELS,
    Sector: SECTOR_LABELS,
    OrganisationType: ORGANISATION_TYPE_LABELS,
    Role: ROLE_LABELS,
    MembershipStatus: MEMBERSHIP_STATUS_LABELS,
    Decision: DECISION_LABELS,
}


def label(value: Any) -> Any:
    """The translated label of an enum member (or of an audit action name); the value itself otherwise."""
    if isinstance(value, enum.Enum):
        return _BY_TYPE.get(type(value), {}).get(value, value.value)
    if isinstance(value, str) and value in AUDIT_ACTION_LABELS:
        return AUDIT_ACTION_LABELS[value]
    return value


def tone(status: MembershipStatus) -> str:
    """The CSS tone (ok / warn / bad) of a membership status badge."""
    return MEMBERSHIP_STATUS_TONES.get(status, "")


def choices(enum_cls: type[enum.Enum], members: Any = None) -> list[SelectChoice]:
    """The options of a select field, in declaration order (or the order of ``members``)."""
    table = _BY_TYPE[enum_cls]
    return [SelectChoice(member.value, table[member]) for member in (members if members is not None else enum_cls)]


# Why awarding stopped (a batch) or a row failed, in words: the stable codes stay in the data and the CSV export.
FAILURE_LABELS: dict[str, Any] = {
    "organisation_suspended": _l("the organisation is suspended from a territory"),
    "achievement_archived": _l("the badge was archived"),
    "no_active_signing_key": _l("the organisation has no signing key in use"),
    "signing_key_not_found": _l("the organisation has no signing key in use"),
    "signing_key_decryption_failed": _l("the organisation's signing key could not be opened"),
    "kek_missing": _l("the organisation's signing key could not be opened"),
    "kek_invalid": _l("the organisation's signing key could not be opened"),
    "idempotency_conflict": _l("this row was already used for a different award"),
    "mail_failed": _l("the e-mail could not be sent"),
}


def failure_label(code: str | None) -> str:
    """Why awarding stopped or failed (``code``, a :class:`~badgehub.errors.BadgeHubError` code), in words."""
    return str(FAILURE_LABELS.get(code or "", _l("an unexpected problem on the server")))

