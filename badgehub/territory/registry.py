"""The registry of trusted issuers, read from the verifier's side: who is behind an issuer id, and where it stands.

A verified credential names its issuer by an id. :func:`find_organisation` says which of this platform's
organisations that id is, in any of the forms BadgeHub writes or publishes:

* our did:web, ``did:web:<host>[%3A<port>][:<base path>]:issuers:<slug>`` (the default issuer id);
* a did:key whose Ed25519 key is one of an organisation's published keys (active, retired or compromised: a
  credential signed before a rotation still names the organisation that signed it);
* the issuer profile address, ``<BASE_URL>/issuers/<slug>`` (http or https, like every address of ours).

:func:`issuer_standing` adds the organisation's standing in the territories (the rule of suspension is
:func:`badgehub.organisations.service.organisation_standing`'s, read here, never written again):

* ``approved``: an approved member of at least one territory, and suspended nowhere;
* ``suspended``: suspended in at least one territory (its badges still verify, but a coordinator has paused it);
* ``not_member``: one of our organisations, but an approved member of no territory (nobody vouches for it);
* ``not_on_platform``: an issuer this platform does not know (a foreign badge).

The standing is only meaningful for an issuer id that the signature ties to the credential: callers pass the id of
a *verified* credential (see :func:`standing_for_report`). Reads only; never raises for any input.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select

from badgehub.config import ConfigError
from badgehub.extensions import db
from badgehub.keys.identity import ISSUERS_PATH, base_url_of, did_web_of, local_path
from badgehub.keys.models import KeyAlgorithm, KeyState, SigningKey
from badgehub.organisations.models import Organisation
from badgehub.organisations.service import organisation_standing
from badgehub.territory.models import TerritoryMembership
from badgehub.verification.report import CheckStatus, VerificationReport

_SLUG: Final = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_MULTIKEY: Final = re.compile(r"z[1-9A-HJ-NP-Za-km-z]{20,100}")
_PUBLISHED: Final = (KeyState.ACTIVE, KeyState.RETIRED, KeyState.COMPROMISED)


class StandingStatus(enum.StrEnum):
    """Where an issuer stands in this platform's registry (see the module docstring)."""

    APPROVED = "approved"
    SUSPENDED = "suspended"
    NOT_MEMBER = "not_member"
    NOT_ON_PLATFORM = "not_on_platform"


@dataclass(frozen=True)
class MembershipFact:
    """One public membership: the territory, whether it is approved or suspended, and since when."""

    territory_slug: str
    territory_name: str
    status: str  # approved / suspended
    since: dt.datetime | None  # approved: member since; suspended: when the suspension was decided


@dataclass(frozen=True)
class IssuerStanding:
    """An issuer id looked up in the registry: the organisation (None when foreign) and its standing."""

    issuer_id: str | None
    status: StandingStatus
    organisation: Organisation | None = None
    approved: tuple[MembershipFact, ...] = ()
    suspended: tuple[MembershipFact, ...] = ()

    @property
    def is_ours(self) -> bool:
        return self.organisation is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (dates in ISO 8601 UTC); the organisation by slug, name and sector."""

        def fact(item: MembershipFact) -> dict[str, Any]:
            since = item.since.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if item.since else None
            return {"territory": item.territory_slug, "territory_name": item.territory_name,
                    "status": item.status, "since": since}

        organisation = None
        if self.organisation is not None:
            organisation = {"slug": self.organisation.slug, "name": self.organisation.name,
                            "sector": self.organisation.sector.value}
        return {"status": self.status.value, "issuer_id": self.issuer_id, "organisation": organisation,
                "memberships": [fact(item) for item in (*self.approved, *self.suspended)]}


def _slug_of(issuer_id: str, base_url: str) -> str | None:
    if issuer_id.startswith("did:web:"):
        prefix = did_web_of(base_url, "x")[:-1]
        slug = issuer_id[len(prefix):] if issuer_id.startswith(prefix) else ""
    else:
        path = local_path(issuer_id, base_url)
        slug = path[len(ISSUERS_PATH):] if path is not None and path.startswith(ISSUERS_PATH) else ""
    return slug if _SLUG.fullmatch(slug) else None


OrganisationBySlug = Callable[[str], Organisation | None]
"""Looks an organisation up by slug: a verification that already read its issuer passes its own look-up
(:meth:`badgehub.keys.resolver.OwnIssuerResolver.organisation`) so the registry does not read it again."""


def _by_slug(slug: str) -> Organisation | None:
    found: Organisation | None = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    return found


def find_organisation(issuer_id: object, config: Mapping[str, Any], *,
                      by_slug: OrganisationBySlug = _by_slug) -> Organisation | None:
    """The organisation of this platform that ``issuer_id`` names (did:web, did:key of one of its published
    Ed25519 keys, or its profile address under ``BASE_URL``), or None. Never raises."""
    if not isinstance(issuer_id, str) or not issuer_id or len(issuer_id) > 2000:
        return None
    if issuer_id.startswith("did:key:"):
        multikey = issuer_id[len("did:key:"):]
        if not _MULTIKEY.fullmatch(multikey):
            return None
        organisation: Organisation | None = db.session.scalar(
            select(Organisation).join(SigningKey, SigningKey.organisation_id == Organisation.id)
            .where(SigningKey.algorithm == KeyAlgorithm.ED25519, SigningKey.public_key == multikey,
                   SigningKey.state.in_(_PUBLISHED)))
        return organisation
    try:
        slug = _slug_of(issuer_id, base_url_of(config))
    except ConfigError:
        return None
    if slug is None:
        return None
    return by_slug(slug)


def _fact(membership: TerritoryMembership, since: dt.datetime | None) -> MembershipFact:
    return MembershipFact(membership.territory.slug, membership.territory.name, membership.status.value, since)


def standing_of(organisation: Organisation, issuer_id: str | None = None) -> IssuerStanding:
    """The standing of one of our organisations (the rule is ``organisation_standing``'s)."""
    standing = organisation_standing(organisation)
    approved = tuple(_fact(m, m.member_since) for m in standing.approved)
    suspended = tuple(_fact(m, m.decided_at) for m in standing.suspended)
    if suspended:
        status = StandingStatus.SUSPENDED
    elif approved:
        status = StandingStatus.APPROVED
    else:
        status = StandingStatus.NOT_MEMBER
    return IssuerStanding(issuer_id, status, organisation, approved, suspended)


def issuer_standing(issuer_id: object, config: Mapping[str, Any], *,
                    by_slug: OrganisationBySlug = _by_slug) -> IssuerStanding:
    """Look ``issuer_id`` up: our organisation and its standing, or ``not_on_platform``. Never raises."""
    organisation = find_organisation(issuer_id, config, by_slug=by_slug)
    text = issuer_id if isinstance(issuer_id, str) else None
    if organisation is None:
        return IssuerStanding(text, StandingStatus.NOT_ON_PLATFORM)
    return standing_of(organisation, text)


def _proof_holds(report: VerificationReport) -> bool:
    proof = report.check("proof")
    return proof is not None and proof.status in (CheckStatus.PASSED, CheckStatus.WARNING)


def standing_for_report(report: VerificationReport, config: Mapping[str, Any], *,
                        by_slug: OrganisationBySlug = _by_slug) -> IssuerStanding | None:
    """The standing of the issuer a verification report names, or None when the issuer is not confirmed.

    The signature must hold, and for one of our organisations the signing key must also be confirmed as that
    organisation's (the ``issuer_key`` check passed): a credential may name any issuer it likes, and a forged
    badge must not borrow an approved member's standing. Never raises.
    """
    if not _proof_holds(report):
        return None
    standing = issuer_standing(report.issuer_id, config, by_slug=by_slug)
    key = report.check("issuer_key")
    if standing.is_ours and (key is None or key.status is not CheckStatus.PASSED):
        return None
    return standing
