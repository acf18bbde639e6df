"""The inputs of the OB 3.0 builders: what an issuer, an achievement, a result or a recipient is made of,
as frozen dataclasses (:mod:`badgehub.credentials.documents` turns them into JSON-LD)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Image:
    """An OB ``Image``: an http(s) or ``data:`` URI and an optional caption."""

    id: str
    caption: str | None = None


@dataclass(frozen=True)
class Address:
    """A postal ``Address`` with optional ``GeoCoordinates`` (both latitude and longitude, or neither)."""

    country: str | None = None
    country_code: str | None = None
    region: str | None = None
    locality: str | None = None
    street_address: str | None = None
    post_office_box_number: str | None = None
    postal_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class IdentifierEntry:
    """An ``otherIdentifier`` entry; ``identifier_type`` from IdentifierTypeEnum or ``ext:…``."""

    identifier: str
    identifier_type: str


@dataclass(frozen=True)
class IssuerProfile:
    """An issuer (or endorser, creator, parent organisation) ``Profile``.

    ``endorsements`` are already-signed EndorsementCredential documents, embedded as given.
    """

    id: str
    name: str
    url: str | None = None
    email: str | None = None
    phone: str | None = None
    description: str | None = None
    image: Image | None = None
    address: Address | None = None
    other_identifiers: tuple[IdentifierEntry, ...] = ()
    official: str | None = None
    parent_org: IssuerProfile | None = None
    endorsements: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class Alignment:
    """An ``Alignment`` to a competency or framework item (``targetName`` and ``targetUrl`` required)."""

    target_name: str
    target_url: str
    target_code: str | None = None
    target_framework: str | None = None
    target_type: str | None = None
    target_description: str | None = None


@dataclass(frozen=True)
class Related:
    """A ``Related`` achievement (another language edition, a previous version, the OB 2.0 BadgeClass)."""

    id: str
    version: str | None = None
    in_language: str | None = None
    extra_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class RubricCriterionLevel:
    """A level of a rubric criterion (``ResultDescription.rubricCriterionLevel``)."""

    id: str
    name: str
    description: str | None = None
    level: str | None = None
    points: str | None = None
    alignments: tuple[Alignment, ...] = ()


@dataclass(frozen=True)
class ResultDescription:
    """A ``ResultDescription`` of an achievement; ``result_type`` from ResultType or ``ext:…``."""

    id: str
    name: str
    result_type: str
    allowed_values: tuple[str, ...] = ()
    required_level: str | None = None
    required_value: str | None = None
    value_min: str | None = None
    value_max: str | None = None
    rubric_criterion_levels: tuple[RubricCriterionLevel, ...] = ()
    alignments: tuple[Alignment, ...] = ()


@dataclass(frozen=True)
class AchievementDefinition:
    """An ``Achievement`` (badge definition). ``criteria_narrative`` (Markdown) and/or ``criteria_id``."""

    id: str
    name: str
    description: str
    criteria_narrative: str | None = None
    criteria_id: str | None = None
    image: Image | None = None
    achievement_type: str | None = None
    alignments: tuple[Alignment, ...] = ()
    tags: tuple[str, ...] = ()
    in_language: str | None = None
    creator: IssuerProfile | None = None
    version: str | None = None
    human_code: str | None = None
    field_of_study: str | None = None
    specialization: str | None = None
    credits_available: float | None = None
    other_identifiers: tuple[IdentifierEntry, ...] = ()
    related: tuple[Related, ...] = ()
    result_descriptions: tuple[ResultDescription, ...] = ()
    endorsements: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class Evidence:
    """An ``Evidence`` item. Prefer a URL or ``urn:`` id over a ``data:`` URI (OB3-BRIEF §2.7)."""

    id: str | None = None
    name: str | None = None
    description: str | None = None
    narrative: str | None = None
    genre: str | None = None
    audience: str | None = None
    extra_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class Result:
    """A ``Result``: ids of a ResultDescription / RubricCriterionLevel of the achievement, a status, a value."""

    result_description: str | None = None
    achieved_level: str | None = None
    status: str | None = None
    value: str | None = None
    alignments: tuple[Alignment, ...] = ()


@dataclass(frozen=True)
class Recipient:
    """Who the credential is about: a hashed e-mail (``email`` + ``salt``) and/or a holder ``did``."""

    email: str | None = None
    salt: str | None = None
    did: str | None = None
