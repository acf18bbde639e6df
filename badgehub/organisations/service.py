"""Organisations: profiles, staff, invitations — and the one place where an organisation's rights are decided.

Authorisation rules (written here and nowhere else; views, API and CLI call these functions):

* **Staff only.** An organisation's management pages exist only for its staff. To anyone else they are
  :class:`~badgehub.errors.NotFound`, so the staff of one organisation learn nothing about another's.
  (Its public profile, ``/issuers/<slug>``, is a different thing and is open to all.)
* **Roles.** An *owner* edits the profile, manages staff and invitations and asks to join territories.
  An *issuer* reads, and will issue badges. A *viewer* reads. A role that is too low gets
  :class:`~badgehub.errors.Forbidden`. See :func:`require_member`.
* **At least one owner.** The last owner can be neither removed nor demoted (:class:`LastOwner`).
* **Standing.** While any of the organisation's territory memberships is *suspended*, it loses its rights
  to publish or grant — see :func:`organisation_standing` and :func:`require_good_standing`.

Services take the session, flush, and never commit: the caller commits once.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from babel import Locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from badgehub.accounts.errors import InvalidEmail
from badgehub.accounts.models import User
from badgehub.accounts.service import normalise_email
from badgehub.audit.service import record
from badgehub.db import utcnow
from badgehub.errors import Forbidden, NotFound, ValidationError
from badgehub.extensions import db
from badgehub.fields import block, check, line, web_address
from badgehub.keys.service import create_organisation_keys, installation_kek
from badgehub.organisations.errors import (
    OrganisationSuspended,
    SlugTaken,
)
from badgehub.organisations.models import Invitation, Organisation, OrganisationMember, OrganisationType, Role, Sector
from badgehub.territory.models import Area, MembershipStatus, Territory, TerritoryMembership
from badgehub.territory.slugs import name_sort_key, slugify, validate_slug

# What each action needs. An empty tuple means "any member".
READERS: tuple[Role, ...] = ()
PROFILE_EDITORS = (Role.OWNER,)
STAFF_MANAGERS = (Role.OWNER,)
TERRITORY_MANAGERS = (Role.OWNER,)
BADGE_ISSUERS = (Role.OWNER, Role.ISSUER)

# Higher ranks hold every right of lower ones; a change to a higher rank is a grant.
ROLE_RANK = {Role.VIEWER: 0, Role.ISSUER: 1, Role.OWNER: 2}

INVITATION_LIFETIME = dt.timedelta(days=7)

# Paths under /organisations/ that are pages, not organisations.
RESERVED_SLUGS = frozenset({"new", "edit", "admin", "api", "static"})

MAX_DESCRIPTION = 5000
# CLDR's two-letter groupings and private-use codes, which are not places an organisation can be.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "QO", "UN", "XA", "XB", "ZZ"})
_PHONE = re.compile(r"^\+?[0-9 ().\-/]+$")


def get_organisation_by_slug(slug: str) -> Organisation:
    """Return the organisation with this slug; raises NotFound."""
    organisation = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is None:
        raise NotFound()
    return organisation


def _user_id(user: Any) -> int | None:
    """The id of a signed-in user, or None for nobody / Flask-Login's anonymous user."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    user_id = getattr(user, "id", None)
    return user_id if isinstance(user_id, int) else None


def membership_of(organisation: Organisation, user: Any) -> OrganisationMember | None:
    """The staff record of ``user`` in ``organisation``, or None."""
    user_id = _user_id(user)
    if user_id is None:
        return None
    return db.session.scalar(select(OrganisationMember).where(
        OrganisationMember.organisation_id == organisation.id, OrganisationMember.user_id == user_id))


def require_member(organisation: Organisation, user: Any, *roles: Role) -> OrganisationMember:
    """Return ``user``'s staff record if they hold one of ``roles`` (any role when none is given).

    Raises NotFound when ``user`` is not staff of ``organisation`` (or not signed in): the management side of
    an organisation does not exist for outsiders. Raises Forbidden when they are staff with too low a role.
    """
    member = membership_of(organisation, user)
    if member is None:
        raise NotFound()
    if roles and member.role not in roles:
        raise Forbidden(_l("Your role in this organisation does not allow this. Ask one of its owners."))
    return member


def get_organisation_for(slug: str, user: Any, *roles: Role) -> tuple[Organisation, OrganisationMember]:
    """Load an organisation by slug for its staff: ``(organisation, user's staff record)``.

    Raises NotFound for an unknown slug or a user who is not its staff; Forbidden for too low a role.
    """
    organisation = get_organisation_by_slug(slug)
    return organisation, require_member(organisation, user, *roles)


def organisations_of(user: Any) -> list[OrganisationMember]:
    """The staff records of ``user``, with their organisations, by organisation name."""
    user_id = _user_id(user)
    if user_id is None:
        return []
    members = db.session.scalars(select(OrganisationMember).where(OrganisationMember.user_id == user_id)
                                 .options(selectinload(OrganisationMember.organisation))).all()
    return sorted(members, key=lambda m: (name_sort_key(m.organisation.name), m.id))


def members_of(organisation: Organisation) -> list[OrganisationMember]:
    """The organisation's staff: owners first, then issuers, then viewers; by name within a role."""
    members = list(db.session.scalars(
        select(OrganisationMember).where(OrganisationMember.organisation_id == organisation.id)
        .options(selectinload(OrganisationMember.user))))
    return sorted(members, key=lambda m: (-ROLE_RANK[m.role], name_sort_key(m.user.name or m.user.email), m.id))


def pending_invitations(organisation: Organisation, *, now: dt.datetime | None = None) -> list[Invitation]:
    """Invitations of the organisation that can still be accepted, newest first."""
    moment = now or utcnow()
    return list(db.session.scalars(
        select(Invitation).where(Invitation.organisation_id == organisation.id, Invitation.accepted_at.is_(None),
                                 Invitation.revoked_at.is_(None), Invitation.expires_at > moment)
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())))



@dataclass(frozen=True)
class Standing:
    """Where an organisation stands in the territories it belongs to."""

    approved: tuple[TerritoryMembership, ...]
    suspended: tuple[TerritoryMembership, ...]
    pending: tuple[TerritoryMembership, ...]

    @property
    def can_act(self) -> bool:
        """True when the organisation may publish and grant (see :func:`organisation_standing`)."""
        return not self.suspended

    @property
    def public(self) -> tuple[TerritoryMembership, ...]:
        """The memberships shown to the public: approved and suspended ones, by territory name."""
        return tuple(sorted(self.approved + self.suspended, key=lambda m: name_sort_key(m.territory.name)))


def organisation_standing(organisation: Organisation) -> Standing:
    """Return the organisation's standing: its approved, suspended and pending territory memberships.

    **The rule of suspension.** While *any* of its territory memberships is suspended, an organisation
    loses its rights to publish or grant: it may not edit its public profile, invite staff, raise a staff
    member's role, accept new staff, ask to join a territory, and (once issuing exists) issue badges. Reading
    stays allowed, and so do actions that only reduce what it can do (demoting or removing staff, withdrawing
    an invitation). A suspension in one territory pauses it everywhere because its badges and its profile
    are the same documents in every territory. The rights come back when a coordinator reinstates it (or
    removes it from that territory: a removed organisation is no longer that territory's concern).
    """
    memberships = db.session.scalars(
        select(TerritoryMembership).where(TerritoryMembership.organisation_id == organisation.id)
        .options(joinedload(TerritoryMembership.territory))).all()

    def having(status: MembershipStatus) -> tuple[TerritoryMembership, ...]:
        chosen = (m for m in memberships if m.status == status)
        return tuple(sorted(chosen, key=lambda m: name_sort_key(m.territory.name)))

    return Standing(approved=having(MembershipStatus.APPROVED), suspended=having(MembershipStatus.SUSPENDED),
                    pending=having(MembershipStatus.PENDING))


def can_act(organisation: Organisation) -> bool:
    """True when the organisation may publish and grant; the rule is :func:`organisation_standing`'s."""
    return organisation_standing(organisation).can_act


def require_good_standing(organisation: Organisation) -> None:
    """Raise OrganisationSuspended (403) when the organisation is suspended in any territory.

    Call it before any action that publishes or grants; the rule is written in :func:`organisation_standing`.
    """
    standing = organisation_standing(organisation)
    if not standing.can_act:
        names = ", ".join(m.territory.name for m in standing.suspended)
        raise OrganisationSuspended(_l(
            "%(organisation)s is suspended in %(territories)s: publishing, inviting staff and joining "
            "territories are paused until a coordinator reinstates it. You can still read everything.",
            organisation=organisation.name, territories=names))



@dataclass(frozen=True)
class ProfileFields:
    """The public profile of an organisation (the OB 3.0 ``Profile``), as typed by a person or a script.

    Empty strings mean "not given". ``type`` and ``sector`` take the enum values (``"association"``,
    ``"community"``…) or the enum members.
    """

    name: str
    type: str
    sector: str
    description: str = ""
    url: str = ""
    email: str = ""
    phone: str = ""
    image_url: str = ""
    street_address: str = ""
    postal_code: str = ""
    locality: str = ""
    region: str = ""
    country_code: str = ""
    area_id: int | None = None


@functools.cache
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes known to CLDR (Babel's territories; three-digit keys are regions, not countries)."""
    return frozenset(code for code in Locale("en").territories
                     if isinstance(code, str) and len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES)


def _optional_line(errors: dict[str, Any], field: str, value: str, limit: int) -> str | None:
    return check(errors, field, line, value, limit) or None


def _enum_value(enum_cls: Any, value: Any, field: str, errors: dict[str, Any]) -> Any:
    try:
        return enum_cls(value)
    except ValueError:
        errors[field] = _l("Choose one of the values offered.")
        return None


def clean_profile(fields: ProfileFields) -> dict[str, Any]:
    """Validate a profile and return the column values to store.

    Raises ValidationError whose ``details["fields"]`` maps each wrong field to a message (every problem at
    once, so a form can show them all).
    """
    errors: dict[str, Any] = {}
    values: dict[str, Any] = {
        "name": check(errors, "name", line, fields.name, 200, required=True),
        "type": _enum_value(OrganisationType, fields.type, "type", errors),
        "sector": _enum_value(Sector, fields.sector, "sector", errors),
        "url": check(errors, "url", web_address, fields.url),
        "image_url": check(errors, "image_url", web_address, fields.image_url),
        "street_address": _optional_line(errors, "street_address", fields.street_address, 200),
        "postal_code": _optional_line(errors, "postal_code", fields.postal_code, 20),
        "locality": _optional_line(errors, "locality", fields.locality, 100),
        "region": _optional_line(errors, "region", fields.region, 100),
        "description": check(errors, "description", block, fields.description, MAX_DESCRIPTION),
    }

    email = (fields.email or "").strip()
    values["email"] = None
    if email:
        try:
            values["email"] = normalise_email(email)
        except InvalidEmail as exc:
            errors["email"] = exc.message

    phone = _optional_line(errors, "phone", fields.phone, 40)
    if phone and "phone" not in errors and (not _PHONE.match(phone) or sum(c.isdigit() for c in phone) < 4):
        errors["phone"] = _l("Use digits, spaces and + ( ) . - / only, e.g. +33 1 23 45 67 89.")
    values["phone"] = phone

    country = (fields.country_code or "").strip().upper()
    if country and country not in country_codes():
        errors["country_code"] = _l("Choose a country from the list.")
    values["country_code"] = country or None

    values["area_id"] = None
    if fields.area_id is not None:
        if db.session.get(Area, fields.area_id) is None:
            errors["area_id"] = _l("Choose one of the values offered.")
        else:
            values["area_id"] = fields.area_id

    if errors:
        raise ValidationError(details={"fields": errors})
    return values


def _slug_in_use(slug: str, *, except_id: int | None = None) -> bool:
    query = select(Organisation.id).where(Organisation.slug == slug)
    if except_id is not None:
        query = query.where(Organisation.id != except_id)
    return db.session.scalar(query) is not None


def available_slug(name: str) -> str:
    """A free slug derived from ``name``: ``atelier-velo``, else ``atelier-velo-2``, ``-3``…"""
    base = slugify(name)
    if base in RESERVED_SLUGS:
        base = f"{base}-org"
    taken = set(db.session.scalars(select(Organisation.slug).where(
        (Organisation.slug == base) | Organisation.slug.like(f"{base}-%"))))
    if base not in taken:
        return base
    suffix = 2
    while f"{base}-{suffix}" in taken:
        suffix += 1
    return f"{base}-{suffix}"


def _check_slug(slug: str, *, except_id: int | None) -> str:
    value = validate_slug(slug)
    if value in RESERVED_SLUGS:
        raise ValidationError(_l("This address is reserved. Choose another one."), details={"field": "slug"})
    if _slug_in_use(value, except_id=except_id):
        raise SlugTaken(details={"field": "slug"})
    return value


@contextmanager
def _slug_guard() -> Iterator[None]:
    """Run the changes inside a savepoint: if another request took the same slug meanwhile, the unique
    constraint decides, only these changes are undone, and the loser gets the usual SlugTaken."""
    try:
        with db.session.begin_nested():
            yield
    except IntegrityError as exc:
        raise SlugTaken(details={"field": "slug"}) from exc


def create_organisation(owner: User, fields: ProfileFields, *, slug: str | None = None,
                        config: Mapping[str, Any]) -> Organisation:
    """Create an organisation with ``owner`` as its first owner and return it.

    The slug is derived from the name unless ``slug`` is given. Raises ValidationError (with
    ``details["fields"]``, or ``details["field"] == "slug"``) for a bad profile or slug, SlugTaken for a taken
    slug, Forbidden when ``owner`` is not a signed-in, verified user; KekMissing when the installation has no
    key-encryption key to protect the organisation's new signing keys.
    """
    owner_id = _user_id(owner)
    if owner_id is None or not owner.is_verified:
        raise Forbidden(_l("Confirm your e-mail address before creating an organisation."))
    values = clean_profile(fields)
    chosen = _check_slug(slug, except_id=None) if slug else available_slug(values["name"])
    organisation = Organisation(slug=chosen, **values)
    organisation.members = [OrganisationMember(user_id=owner_id, role=Role.OWNER)]
    with _slug_guard():
        db.session.add(organisation)
    record("organisation.created", actor_id=owner_id, organisation_id=organisation.id,
           subject_type="organisation", subject_id=organisation.id)
    record("organisation.member_added", actor_id=owner_id, organisation_id=organisation.id,
           subject_type="user", subject_id=owner_id, details={"role": Role.OWNER.value})
    db.session.flush()
    # Every organisation can sign from its first minute: its Ed25519 and RSA keys are made with it, in the
    # same transaction.
    create_organisation_keys(organisation, installation_kek(config), actor_id=owner_id)
    return organisation


def slug_is_frozen(organisation: Organisation) -> bool:
    """Whether the slug can no longer change: once the organisation has issued a credential, its slug is in the
    issuer id (``did:web:…:issuers:<slug>``), the key ids and the status-list addresses of signed documents that
    verifiers resolve. A new slug would make every one of them unverifiable."""
    from badgehub.issuing.models import IssuedCredential  # lazy: issuing builds on organisations

    return bool(db.session.scalar(select(exists().where(IssuedCredential.organisation_id == organisation.id))))


def update_profile(organisation: Organisation, actor: Any, fields: ProfileFields, *,
                   slug: str | None = None) -> Organisation:
    """Replace the organisation's public profile (and its slug when ``slug`` is given); owners only.

    Changing the slug changes the public address ``/issuers/<slug>`` and the organisation's did:web, so it is
    refused once the organisation has issued (:func:`slug_is_frozen`). Raises NotFound / Forbidden (see
    :func:`require_member`), OrganisationSuspended, ValidationError, SlugTaken.
    """
    require_member(organisation, actor, *PROFILE_EDITORS)
    require_good_standing(organisation)
    values = clean_profile(fields)
    new_slug = _check_slug(slug, except_id=organisation.id) if slug else organisation.slug
    if new_slug != organisation.slug and slug_is_frozen(organisation):
        raise ValidationError(_l("Your organisation has issued badges, and they name it by this address: it can "
                                 "no longer change."), details={"field": "slug"})
    changed = sorted(key for key, value in values.items() if getattr(organisation, key) != value)
    if new_slug != organisation.slug:
        changed.append("slug")
    with _slug_guard():
        for key, value in values.items():
            setattr(organisation, key, value)
        organisation.slug = new_slug
    if changed:
        record("organisation.profile_updated", actor_id=_user_id(actor), organisation_id=organisation.id,
               subject_type="organisation", subject_id=organisation.id, details={"fields": changed})
        db.session.flush()
    return organisation


def profile_fields_of(organisation: Organisation) -> ProfileFields:
    """The organisation's current profile, in the shape :func:`update_profile` takes."""
    return ProfileFields(
        name=organisation.name, type=organisation.type.value, sector=organisation.sector.value,
        description=organisation.description or "", url=organisation.url or "", email=organisation.email or "",
        phone=organisation.phone or "", image_url=organisation.image_url or "",
        street_address=organisation.street_address or "", postal_code=organisation.postal_code or "",
        locality=organisation.locality or "", region=organisation.region or "",
        country_code=organisation.country_code or "", area_id=organisation.area_id)



def areas_by_territory() -> list[tuple[str, list[Area]]]:
    """Every area, grouped by territory name (for the profile's area choice)."""
    territories: Iterable[Territory] = db.session.scalars(
        select(Territory).options(selectinload(Territory.areas)).order_by(Territory.name))
    return [(territory.name, list(territory.areas)) for territory in territories if territory.areas]
