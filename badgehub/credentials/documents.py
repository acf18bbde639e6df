"""Open Badges 3.0 documents: credentials, endorsements, issuer profiles and achievements.

Builds OB 3.0 Final documents on the VC Data Model 2.0 (OB3-BRIEF §1–§2) as plain dicts, ready to be
signed by :mod:`badgehub.credentials.data_integrity` or :mod:`badgehub.credentials.vc_jwt`:

* ``@context`` is VC v2, then the OB 3.0.3 context, then ``extensions.json`` only when a 1EdTech
  extension type (``1EdTechJsonSchemaValidator2019``, ``1EdTechRevocationList``,
  ``1EdTechCredentialRefresh``) is used;
* every 0..* property is a JSON array (the canonical JSON schema wants arrays, even for ``type``);
  ``IdentityObject.type``, ``IdentifierEntry.type``, ``Image.type`` are plain strings as the schema says;
* ``None`` values and empty sequences are omitted;
* every id, timestamp and salt is passed in, so the output is deterministic byte for byte;
* ``jti`` and ``endorsementJwt`` are never emitted (OB3-BRIEF §13: two copies of the 3.0.3 context
  disagree about them, so they would canonicalise differently from one verifier to the next).

Control characters: pyld leaves U+0001–U+001F unescaped where RDFC-1.0 escapes them (OB3-BRIEF §13),
so a name holding one would be signed differently by us than verified by others. The builders
**refuse** any string containing a control character other than tab and newline (Unicode category Cc,
which includes CR, DEL and C1 controls) or a lone surrogate, with ``DocumentError("control_character")``
naming the field. Refusing keeps what is signed exactly what the issuer typed; input layers that want
to be forgiving call :func:`clean_text` first (it turns CR LF / CR into LF and drops the rest).

Recipient e-mail policy: addresses are normalised with :func:`badgehub.fields.email_key`
(surrounding whitespace trimmed, lower-cased) before hashing, and the verifier applies the same
normalisation to the address it is given. The spec leaves normalisation open (OB3-BRIEF §2.5);
lower-casing the local part is a deliberate choice so that "Ana@Example.org" and "ana@example.org" match.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from badgehub.credentials.contexts import OB_V3_CONTEXT, OB_V3_EXTENSIONS_CONTEXT, VC_V2_CONTEXT
from badgehub.credentials.inputs import (
    AchievementDefinition,
    Address,
    Alignment,
    Evidence,
    IdentifierEntry,
    Image,
    IssuerProfile,
    Recipient,
    Related,
    Result,
    ResultDescription,
    RubricCriterionLevel,
)
from badgehub.credentials.values import (
    ACHIEVEMENT_TYPES,
    ALIGNMENT_TARGET_TYPES,
    IDENTIFIER_TYPES,
    IDENTITY_HASH_ALGORITHMS,
    RESULT_STATUSES,
    RESULT_TYPES,
    DocumentError,
    clean_text,
    email_identity_object,
    forbidden_characters,
    format_timestamp,
    identity_hash,
    is_enum_value,
    parse_identity_hash,
    parse_timestamp,
    string_values,
)

__all__ = [
    "ACHIEVEMENT_TYPES",
    "ALIGNMENT_TARGET_TYPES",
    "EXTENSION_TYPES",
    "IDENTIFIER_TYPES",
    "IDENTITY_HASH_ALGORITHMS",
    "OB_CREDENTIAL_SCHEMA_URL",
    "OB_ENDORSEMENT_SCHEMA_URL",
    "RESULT_STATUSES",
    "RESULT_TYPES",
    "SCHEMA_VALIDATOR_TYPE",
    "AchievementDefinition",
    "Address",
    "Alignment",
    "DocumentError",
    "Evidence",
    "IdentifierEntry",
    "Image",
    "IssuerProfile",
    "Recipient",
    "Related",
    "Result",
    "ResultDescription",
    "RubricCriterionLevel",
    "achievement_document",
    "achievement_object",
    "build_credential",
    "build_endorsement_credential",
    "clean_text",
    "email_identity_object",
    "forbidden_characters",
    "format_timestamp",
    "identity_hash",
    "is_enum_value",
    "issuer_profile_document",
    "parse_identity_hash",
    "parse_timestamp",
    "profile_object",
    "string_values",
    "to_json",
]

OB_CREDENTIAL_SCHEMA_URL: Final = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)
OB_ENDORSEMENT_SCHEMA_URL: Final = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_endorsementcredential_schema.json"
)
SCHEMA_VALIDATOR_TYPE: Final = "1EdTechJsonSchemaValidator2019"
EXTENSION_TYPES: Final = frozenset({SCHEMA_VALIDATOR_TYPE, "1EdTechRevocationList", "1EdTechCredentialRefresh"})

_URI_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]+")


def _compact(items: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """A dict without None values and empty lists/dicts (OB serialisation rule)."""
    return {key: value for key, value in items if value is not None and value != [] and value != {}}


def _check_uri(field: str, value: str | None) -> str | None:
    if value is not None and not (isinstance(value, str) and _URI_RE.fullmatch(value)):
        raise DocumentError("invalid_uri", f"{field}: {value!r} is not an absolute URI.")
    return value


def _check_required(field: str, value: str | None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DocumentError("missing_field", f"{field} is required.")
    return value


def _check_enum(field: str, value: str | None, allowed: frozenset[str], *, extensible: bool = True) -> str | None:
    if value is None:
        return None
    if not (is_enum_value(value, allowed) if extensible else value in allowed):
        raise DocumentError("invalid_enum", f"{field}: {value!r} is not an allowed value.")
    return value


def _image(field: str, image: Image | None) -> dict[str, Any] | None:
    if image is None:
        return None
    _check_uri(f"{field}.id", image.id)
    return _compact([("id", image.id), ("type", "Image"), ("caption", image.caption)])


def _alignment(field: str, alignment: Alignment) -> dict[str, Any]:
    _check_required(f"{field}.targetName", alignment.target_name)
    _check_uri(f"{field}.targetUrl", _check_required(f"{field}.targetUrl", alignment.target_url))
    _check_enum(f"{field}.targetType", alignment.target_type, ALIGNMENT_TARGET_TYPES)
    return _compact(
        [
            ("type", ["Alignment"]),
            ("targetName", alignment.target_name),
            ("targetUrl", alignment.target_url),
            ("targetCode", alignment.target_code),
            ("targetFramework", alignment.target_framework),
            ("targetType", alignment.target_type),
            ("targetDescription", alignment.target_description),
        ]
    )


def _alignments(field: str, alignments: Sequence[Alignment]) -> list[dict[str, Any]]:
    return [_alignment(f"{field}[{i}]", a) for i, a in enumerate(alignments)]


def _identifier_entries(field: str, entries: Sequence[IdentifierEntry]) -> list[dict[str, Any]]:
    out = []
    for i, entry in enumerate(entries):
        _check_required(f"{field}[{i}].identifier", entry.identifier)
        _check_enum(f"{field}[{i}].identifierType", entry.identifier_type, IDENTIFIER_TYPES)
        out.append({"type": "IdentifierEntry", "identifier": entry.identifier, "identifierType": entry.identifier_type})
    return out


def _address(address: Address | None) -> dict[str, Any] | None:
    if address is None:
        return None
    geo = None
    if (address.latitude is None) != (address.longitude is None):
        raise DocumentError("invalid_address", "address: give both latitude and longitude, or neither.")
    if address.latitude is not None:
        geo = {"type": "GeoCoordinates", "latitude": address.latitude, "longitude": address.longitude}
    return _compact(
        [
            ("type", ["Address"]),
            ("addressCountry", address.country),
            ("addressCountryCode", address.country_code),
            ("addressRegion", address.region),
            ("addressLocality", address.locality),
            ("streetAddress", address.street_address),
            ("postOfficeBoxNumber", address.post_office_box_number),
            ("postalCode", address.postal_code),
            ("geo", geo),
        ]
    )


def _endorsements(field: str, endorsements: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for i, endorsement in enumerate(endorsements):
        types = endorsement.get("type")
        if not isinstance(types, list) or "EndorsementCredential" not in types:
            raise DocumentError("invalid_endorsement", f"{field}[{i}] is not an EndorsementCredential.")
        out.append(json.loads(json.dumps(endorsement)))  # a deep, JSON-only copy
    return out


def profile_object(profile: IssuerProfile, field: str = "issuer") -> dict[str, Any]:
    """The ``Profile`` JSON object (no ``@context``) as embedded in credentials and achievements.

    Raises :class:`DocumentError` for a missing id or name, a non-URI id/url, bad enumerations.
    """
    _check_uri(f"{field}.id", _check_required(f"{field}.id", profile.id))
    _check_required(f"{field}.name", profile.name)
    _check_uri(f"{field}.url", profile.url)
    return _compact(
        [
            ("id", profile.id),
            ("type", ["Profile"]),
            ("name", profile.name),
            ("url", profile.url),
            ("email", profile.email),
            ("phone", profile.phone),
            ("description", profile.description),
            ("image", _image(f"{field}.image", profile.image)),
            ("address", _address(profile.address)),
            ("otherIdentifier", _identifier_entries(f"{field}.otherIdentifier", profile.other_identifiers)),
            ("official", profile.official),
            ("parentOrg", profile_object(profile.parent_org, f"{field}.parentOrg") if profile.parent_org else None),
            ("endorsement", _endorsements(f"{field}.endorsement", profile.endorsements)),
        ]
    )


def _result_description(field: str, rd: ResultDescription) -> dict[str, Any]:
    _check_uri(f"{field}.id", _check_required(f"{field}.id", rd.id))
    _check_required(f"{field}.name", rd.name)
    _check_enum(f"{field}.resultType", _check_required(f"{field}.resultType", rd.result_type), RESULT_TYPES)
    levels = []
    for j, level in enumerate(rd.rubric_criterion_levels):
        level_field = f"{field}.rubricCriterionLevel[{j}]"
        _check_uri(f"{level_field}.id", _check_required(f"{level_field}.id", level.id))
        _check_required(f"{level_field}.name", level.name)
        levels.append(
            _compact(
                [
                    ("id", level.id),
                    ("type", ["RubricCriterionLevel"]),
                    ("name", level.name),
                    ("description", level.description),
                    ("level", level.level),
                    ("points", level.points),
                    ("alignment", _alignments(f"{level_field}.alignment", level.alignments)),
                ]
            )
        )
    return _compact(
        [
            ("id", rd.id),
            ("type", ["ResultDescription"]),
            ("name", rd.name),
            ("resultType", rd.result_type),
            ("allowedValue", list(rd.allowed_values)),
            ("requiredLevel", rd.required_level),
            ("requiredValue", rd.required_value),
            ("valueMin", rd.value_min),
            ("valueMax", rd.value_max),
            ("rubricCriterionLevel", levels),
            ("alignment", _alignments(f"{field}.alignment", rd.alignments)),
        ]
    )


def achievement_object(definition: AchievementDefinition, field: str = "achievement") -> dict[str, Any]:
    """The ``Achievement`` JSON object (no ``@context``) as embedded in ``credentialSubject``.

    Raises :class:`DocumentError` for missing id/name/description, criteria with neither narrative
    nor id, non-URI ids and values outside the OB enumerations.
    """
    _check_uri(f"{field}.id", _check_required(f"{field}.id", definition.id))
    _check_required(f"{field}.name", definition.name)
    _check_required(f"{field}.description", definition.description)
    if not definition.criteria_narrative and not definition.criteria_id:
        raise DocumentError("missing_field", f"{field}.criteria needs a narrative or an id.")
    _check_uri(f"{field}.criteria.id", definition.criteria_id)
    _check_enum(f"{field}.achievementType", definition.achievement_type, ACHIEVEMENT_TYPES)
    related = []
    for i, item in enumerate(definition.related):
        _check_uri(f"{field}.related[{i}].id", _check_required(f"{field}.related[{i}].id", item.id))
        related.append(
            _compact(
                [
                    ("id", item.id),
                    ("type", ["Related", *item.extra_types]),
                    ("inLanguage", item.in_language),
                    ("version", item.version),
                ]
            )
        )
    return _compact(
        [
            ("id", definition.id),
            ("type", ["Achievement"]),
            ("name", definition.name),
            ("description", definition.description),
            ("criteria", _compact([("id", definition.criteria_id), ("narrative", definition.criteria_narrative)])),
            ("image", _image(f"{field}.image", definition.image)),
            ("achievementType", definition.achievement_type),
            ("alignment", _alignments(f"{field}.alignment", definition.alignments)),
            ("creator", profile_object(definition.creator, f"{field}.creator") if definition.creator else None),
            ("creditsAvailable", definition.credits_available),
            ("fieldOfStudy", definition.field_of_study),
            ("humanCode", definition.human_code),
            ("inLanguage", definition.in_language),
            ("otherIdentifier", _identifier_entries(f"{field}.otherIdentifier", definition.other_identifiers)),
            ("related", related),
            (
                "resultDescription",
                [
                    _result_description(f"{field}.resultDescription[{i}]", rd)
                    for i, rd in enumerate(definition.result_descriptions)
                ],
            ),
            ("specialization", definition.specialization),
            ("tag", [tag for tag in definition.tags if tag]),
            ("version", definition.version),
            ("endorsement", _endorsements(f"{field}.endorsement", definition.endorsements)),
        ]
    )


def _evidence(field: str, evidence: Evidence) -> dict[str, Any]:
    _check_uri(f"{field}.id", evidence.id)
    return _compact(
        [
            ("id", evidence.id),
            ("type", ["Evidence", *evidence.extra_types]),
            ("name", evidence.name),
            ("description", evidence.description),
            ("narrative", evidence.narrative),
            ("genre", evidence.genre),
            ("audience", evidence.audience),
        ]
    )


def _result(field: str, result: Result) -> dict[str, Any]:
    _check_enum(f"{field}.status", result.status, RESULT_STATUSES, extensible=False)
    return _compact(
        [
            ("type", ["Result"]),
            ("resultDescription", _check_uri(f"{field}.resultDescription", result.result_description)),
            ("achievedLevel", _check_uri(f"{field}.achievedLevel", result.achieved_level)),
            ("status", result.status),
            ("value", result.value),
            ("alignment", _alignments(f"{field}.alignment", result.alignments)),
        ]
    )


def _status_object(field: str, status: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if status is None:
        return None
    _check_uri(f"{field}.id", _check_required(f"{field}.id", status.get("id")))
    _check_required(f"{field}.type", status.get("type"))
    return dict(status)


def _uses_extensions(node: object) -> bool:
    """True if a 1EdTech extension type is used outside embedded endorsements (which carry their own
    ``@context``)."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "endorsement":
                continue
            if key == "type" and not EXTENSION_TYPES.isdisjoint(string_values(value)):
                return True
            if _uses_extensions(value):
                return True
    elif isinstance(node, list):
        return any(_uses_extensions(item) for item in node)
    return False


def _check_text(node: object, path: str = "$") -> None:
    if isinstance(node, str):
        bad = forbidden_characters(node)
        if bad:
            shown = ", ".join(f"U+{ord(ch):04X}" for ch in dict.fromkeys(bad))
            raise DocumentError("control_character", f"{path} contains a refused control character ({shown}).")
    elif isinstance(node, Mapping):
        for key, value in node.items():
            _check_text(key, path)
            _check_text(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            _check_text(item, f"{path}[{i}]")


def _with_context(document: dict[str, Any]) -> dict[str, Any]:
    contexts: list[str] = [VC_V2_CONTEXT, OB_V3_CONTEXT]
    if _uses_extensions(document):
        contexts.append(OB_V3_EXTENSIONS_CONTEXT)
    _check_text(document)
    return {"@context": contexts, **document}


def _check_validity(valid_from: str, valid_until: str | None) -> None:
    if valid_until is None:
        return
    start, end = parse_timestamp(valid_from), parse_timestamp(valid_until)
    if start is not None and end is not None and end <= start:
        raise DocumentError("validity_order", "validUntil must be later than validFrom.")


def build_credential(
    *,
    credential_id: str,
    issuer: IssuerProfile,
    achievement: AchievementDefinition,
    recipient: Recipient,
    valid_from: datetime | str,
    valid_until: datetime | str | None = None,
    awarded_date: datetime | str | None = None,
    name: str | None = None,
    description: str | None = None,
    image: Image | None = None,
    subject_image: Image | None = None,
    evidence: Sequence[Evidence] = (),
    results: Sequence[Result] = (),
    narrative: str | None = None,
    activity_start_date: datetime | str | None = None,
    activity_end_date: datetime | str | None = None,
    credits_earned: float | None = None,
    license_number: str | None = None,
    role: str | None = None,
    term: str | None = None,
    source: IssuerProfile | None = None,
    credential_status: Mapping[str, Any] | None = None,
    refresh_service: Mapping[str, Any] | None = None,
    endorsements: Sequence[Mapping[str, Any]] = (),
    include_credential_schema: bool = False,
) -> dict[str, Any]:
    """Build an unsigned OB 3.0 ``OpenBadgeCredential`` (VC DM 2.0).

    ``name`` defaults to the achievement name (wallets list credentials by name). The subject gets
    ``id`` = ``recipient.did`` and/or an ``identifier`` with the hashed, salted e-mail.
    ``credential_status`` is a ready entry (see :func:`badgehub.credentials.status_list.status_list_entry`
    or a ``1EdTechRevocationList`` object); ``include_credential_schema`` adds the
    ``1EdTechJsonSchemaValidator2019`` reference (and so the ``extensions.json`` context).
    Raises :class:`DocumentError` for a missing recipient, missing or malformed fields, values outside
    the OB enumerations, ``validUntil`` not after ``validFrom``, or refused control characters.
    """
    _check_uri("id", _check_required("id", credential_id))
    if not recipient.email and not recipient.did:
        raise DocumentError("missing_recipient", "credentialSubject needs an e-mail identifier or a DID.")
    identifiers = [email_identity_object(recipient.email, recipient.salt or "")] if recipient.email else []
    _check_uri("credentialSubject.id", recipient.did)
    start = format_timestamp(valid_from, "validFrom")
    end = format_timestamp(valid_until, "validUntil") if valid_until is not None else None
    _check_validity(start, end)
    subject = _compact(
        [
            ("id", recipient.did),
            ("type", ["AchievementSubject"]),
            ("identifier", identifiers),
            ("achievement", achievement_object(achievement, "credentialSubject.achievement")),
            (
                "activityStartDate",
                format_timestamp(activity_start_date, "activityStartDate") if activity_start_date else None,
            ),
            ("activityEndDate", format_timestamp(activity_end_date, "activityEndDate") if activity_end_date else None),
            ("creditsEarned", credits_earned),
            ("image", _image("credentialSubject.image", subject_image)),
            ("licenseNumber", license_number),
            ("narrative", narrative),
            ("result", [_result(f"credentialSubject.result[{i}]", r) for i, r in enumerate(results)]),
            ("role", role),
            ("source", profile_object(source, "credentialSubject.source") if source else None),
            ("term", term),
        ]
    )
    schema = [{"id": OB_CREDENTIAL_SCHEMA_URL, "type": SCHEMA_VALIDATOR_TYPE}] if include_credential_schema else []
    document = _compact(
        [
            ("id", credential_id),
            ("type", ["VerifiableCredential", "OpenBadgeCredential"]),
            ("name", name if name is not None else achievement.name),
            ("description", description),
            ("image", _image("image", image)),
            ("issuer", profile_object(issuer)),
            ("validFrom", start),
            ("validUntil", end),
            ("awardedDate", format_timestamp(awarded_date, "awardedDate") if awarded_date else None),
            ("credentialSubject", subject),
            ("evidence", [_evidence(f"evidence[{i}]", e) for i, e in enumerate(evidence)]),
            ("endorsement", _endorsements("endorsement", endorsements)),
            ("credentialSchema", schema),
            ("credentialStatus", _status_object("credentialStatus", credential_status)),
            ("refreshService", _status_object("refreshService", refresh_service)),
        ]
    )
    return _with_context(document)


def build_endorsement_credential(
    *,
    credential_id: str,
    issuer: IssuerProfile,
    subject_id: str,
    name: str,
    valid_from: datetime | str,
    endorsement_comment: str | None = None,
    description: str | None = None,
    valid_until: datetime | str | None = None,
    awarded_date: datetime | str | None = None,
    credential_status: Mapping[str, Any] | None = None,
    include_credential_schema: bool = False,
) -> dict[str, Any]:
    """Build an unsigned ``EndorsementCredential`` about ``subject_id`` (a profile, achievement or
    credential id), with an optional Markdown ``endorsement_comment``.

    Raises :class:`DocumentError` as :func:`build_credential` does.
    """
    _check_uri("id", _check_required("id", credential_id))
    _check_uri("credentialSubject.id", _check_required("credentialSubject.id", subject_id))
    _check_required("name", name)
    start = format_timestamp(valid_from, "validFrom")
    end = format_timestamp(valid_until, "validUntil") if valid_until is not None else None
    _check_validity(start, end)
    schema = [{"id": OB_ENDORSEMENT_SCHEMA_URL, "type": SCHEMA_VALIDATOR_TYPE}] if include_credential_schema else []
    document = _compact(
        [
            ("id", credential_id),
            ("type", ["VerifiableCredential", "EndorsementCredential"]),
            ("name", name),
            ("description", description),
            ("issuer", profile_object(issuer)),
            ("validFrom", start),
            ("validUntil", end),
            ("awardedDate", format_timestamp(awarded_date, "awardedDate") if awarded_date else None),
            (
                "credentialSubject",
                _compact(
                    [
                        ("id", subject_id),
                        ("type", ["EndorsementSubject"]),
                        ("endorsementComment", endorsement_comment),
                    ]
                ),
            ),
            ("credentialSchema", schema),
            ("credentialStatus", _status_object("credentialStatus", credential_status)),
        ]
    )
    return _with_context(document)


def issuer_profile_document(profile: IssuerProfile) -> dict[str, Any]:
    """The JSON-LD issuer ``Profile`` published at ``/issuers/<slug>`` (with ``@context``).

    Raises :class:`DocumentError` as :func:`profile_object` does, or for refused control characters.
    """
    return _with_context(profile_object(profile))


def achievement_document(definition: AchievementDefinition) -> dict[str, Any]:
    """The JSON-LD ``Achievement`` published at ``/achievements/<id>`` (with ``@context``).

    Raises :class:`DocumentError` as :func:`achievement_object` does, or for refused control characters.
    """
    return _with_context(achievement_object(definition))


def to_json(document: Mapping[str, Any], *, indent: int | None = None) -> str:
    """Serialise a document as UTF-8-ready JSON text (non-ASCII kept, key order kept).

    Compact by default (what is stored and served); ``indent`` for files meant to be read.
    """
    if indent is None:
        return json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(document, ensure_ascii=False, indent=indent)
