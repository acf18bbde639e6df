"""Build a territory's known-issuer registry, the JSON document DCC verifiers and wallets load.

The format is the one read by ``@digitalcredentials/issuer-registry-client`` (VerifierPlus, the Learner
Credential Wallet): ``{"meta": {"created", "updated"}, "registry": {<issuer DID>: {"name", "url",
"location"}}}``. A verifier looks a credential's ``issuer.id`` up in ``registry``, so the keys are the ids our
credentials carry: the did:web in the did:web style; in the did:key style, the did:key of every Ed25519 key
that signed or signs for the organisation (active and retired: a credential issued before a rotation still
names the older key). Compromised keys are left out: nobody should be vouched for through them.

Who is listed is the territory's approved members in good standing. The rule of suspension is
:func:`badgehub.organisations.service.organisation_standing`'s: an organisation suspended in any territory is
paused everywhere, so it leaves every registry until a coordinator reinstates it. The document is computed
from the memberships on each request, so it changes the moment a coordinator approves or suspends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from badgehub.extensions import db
from badgehub.keys.identity import IssuerIdStyle, base_url_of, did_key_of, did_web_of, issuer_id_style, profile_url
from badgehub.keys.models import KeyAlgorithm, KeyState, SigningKey
from badgehub.organisations.models import Organisation
from badgehub.territory.models import MembershipStatus, Territory, TerritoryMembership

_VOUCHED_KEY_STATES = (KeyState.ACTIVE, KeyState.RETIRED)


def _stamp(moment: dt.datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0).isoformat() + "Z"


def _location(organisation: Organisation) -> str:
    parts = (organisation.locality, organisation.region, organisation.country_code)
    return ", ".join(part.strip() for part in parts if part and part.strip())


def _entry(organisation: Organisation, base_url: str) -> dict[str, str]:
    entry = {"name": organisation.name, "url": organisation.url or profile_url(base_url, organisation.slug)}
    location = _location(organisation)
    if location:
        entry["location"] = location
    return entry


def _suspended_anywhere(organisation_ids: list[int]) -> set[int]:
    if not organisation_ids:
        return set()
    return set(db.session.scalars(select(TerritoryMembership.organisation_id).where(
        TerritoryMembership.organisation_id.in_(organisation_ids),
        TerritoryMembership.status == MembershipStatus.SUSPENDED)))


def _did_keys(organisation_ids: list[int]) -> dict[int, list[str]]:
    rows = db.session.execute(
        select(SigningKey.organisation_id, SigningKey.public_key).where(
            SigningKey.organisation_id.in_(organisation_ids), SigningKey.algorithm == KeyAlgorithm.ED25519,
            SigningKey.state.in_(_VOUCHED_KEY_STATES))
        .order_by(SigningKey.created_at, SigningKey.id))
    found: dict[int, list[str]] = {}
    for organisation_id, public_key in rows:
        found.setdefault(organisation_id, []).append(did_key_of(public_key))
    return found


def trusted_members(territory: Territory) -> list[Organisation]:
    """The territory's approved members that are suspended nowhere, by slug (a stable order)."""
    approved = list(db.session.scalars(
        select(Organisation).join(TerritoryMembership, TerritoryMembership.organisation_id == Organisation.id)
        .where(TerritoryMembership.territory_id == territory.id,
               TerritoryMembership.status == MembershipStatus.APPROVED)
        .order_by(Organisation.slug)))
    paused = _suspended_anywhere([organisation.id for organisation in approved])
    return [organisation for organisation in approved if organisation.id not in paused]


def last_change(territory: Territory) -> dt.datetime:
    """When the registry last changed: the latest decision on a membership of any organisation that ever asked
    to join the territory (a suspension elsewhere takes it off this list too), or the territory's creation."""
    candidates = select(TerritoryMembership.organisation_id).where(TerritoryMembership.territory_id == territory.id)
    latest = db.session.scalar(select(func.max(TerritoryMembership.decided_at)).where(
        TerritoryMembership.organisation_id.in_(candidates)))
    return max(filter(None, (latest, territory.created_at)))


def known_issuer_registry(territory: Territory, config: Mapping[str, Any]) -> dict[str, Any]:
    """Return the territory's registry document (see the module docstring for its shape and who is listed).

    Raises :class:`~badgehub.config.ConfigError` when the installation's base URL or issuer id style is bad.
    """
    base_url = base_url_of(config)
    style = issuer_id_style(config)
    members = trusted_members(territory)
    registry: dict[str, dict[str, str]] = {}
    if style is IssuerIdStyle.DID_KEY:
        did_keys = _did_keys([organisation.id for organisation in members])
        for organisation in members:
            for did in did_keys.get(organisation.id, []):
                registry[did] = _entry(organisation, base_url)
    else:
        for organisation in members:
            registry[did_web_of(base_url, organisation.slug)] = _entry(organisation, base_url)
    return {
        "meta": {"created": _stamp(territory.created_at), "updated": _stamp(last_change(territory))},
        "registry": registry,
    }
