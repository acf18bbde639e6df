"""The values OB 3.0 documents are made of: enumerations, identity hashes, timestamps and text.

Shared by the builders (:mod:`badgehub.credentials.documents`) and the verifier, which reads the same
values back.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any, Final

from badgehub.credentials.errors import CredentialError
from badgehub.fields import email_key

ACHIEVEMENT_TYPES: Final = frozenset(
    {
        "Achievement", "ApprenticeshipCertificate", "Assessment", "Assignment", "AssociateDegree", "Award",
        "Badge", "BachelorDegree", "Certificate", "CertificateOfCompletion", "Certification",
        "CommunityService", "Competency", "Course", "CoCurricular", "Degree", "Diploma", "DoctoralDegree",
        "Fieldwork", "GeneralEducationDevelopment", "JourneymanCertificate", "LearningProgram", "License",
        "Membership", "ProfessionalDoctorate", "QualityAssuranceCredential", "MasterCertificate",
        "MasterDegree", "MicroCredential", "ResearchDoctorate", "SecondarySchoolDiploma",
    }
)  # fmt: skip
# BadgeHub's own AchievementType (the ``ext:`` extension OB 3.0 allows): a badge the learner declares with
# evidence and the issuer records without assessing it. Readers show such a credential as "declared, not
# assessed"; its criteria narrative says so in words too.
SELF_DECLARED_TYPE: Final = "ext:SelfDeclared"
ALIGNMENT_TARGET_TYPES: Final = frozenset(
    {"ceasn:Competency", "ceterms:Credential", "CFItem", "CFRubric", "CFRubricCriterion",
     "CFRubricCriterionLevel", "CTDL"}
)  # fmt: skip
IDENTIFIER_TYPES: Final = frozenset(
    {
        "name", "sourcedId", "systemId", "productId", "userName", "accountId", "emailAddress",
        "nationalIdentityNumber", "isbn", "issn", "lisSourcedId", "oneRosterSourcedId", "sisSourcedId",
        "ltiContextId", "ltiDeploymentId", "ltiToolId", "ltiPlatformId", "ltiUserId", "identifier",
    }
)  # fmt: skip
RESULT_STATUSES: Final = frozenset(
    {"Completed", "Enrolled", "Failed", "InProgress", "OnHold", "Provisional", "Withdrew"}
)
RESULT_TYPES: Final = frozenset(
    {
        "GradePointAverage", "LetterGrade", "Percent", "PerformanceLevel", "PredictedScore", "RawScore",
        "Result", "RubricCriterion", "RubricCriterionLevel", "RubricScore", "ScaledScore", "Status",
    }
)  # fmt: skip
IDENTITY_HASH_ALGORITHMS: Final = frozenset({"sha256", "md5"})

_EXTENSION_VALUE_RE = re.compile(r"ext:[A-Za-z0-9.|_-]+")
_DATETIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
_IDENTITY_HASH_RE = re.compile(r"(sha256|md5)\$([0-9a-fA-F]+)")


class DocumentError(CredentialError):
    """Input that cannot become a valid OB 3.0 document; ``code`` says why, the message names the field."""

    code = "document_error"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)


def is_enum_value(value: object, allowed: frozenset[str]) -> bool:
    """True when ``value`` is in the enumeration or is an ``ext:`` extension value (OB EnumExt)."""
    return isinstance(value, str) and (value in allowed or bool(_EXTENSION_VALUE_RE.fullmatch(value)))


def identity_hash(identifier: str, salt: str | None, alg: str = "sha256") -> str:
    """Return the OB IdentityHash ``"<alg>$<hex>"`` of ``identifier`` followed by ``salt`` (UTF-8).

    ``alg`` is ``sha256`` (default) or ``md5`` (verification of old badges only). The identifier is
    hashed as given; e-mail callers normalise it first. Raises :class:`DocumentError`
    (``hash_algorithm``) for any other algorithm.
    """
    if alg not in IDENTITY_HASH_ALGORITHMS:
        raise DocumentError("hash_algorithm", f"Unsupported identity hash algorithm {alg!r}.")
    digest = hashlib.new(alg, usedforsecurity=False)
    digest.update(identifier.encode("utf-8") + (salt or "").encode("utf-8"))
    return f"{alg}${digest.hexdigest()}"


def parse_identity_hash(value: str) -> tuple[str, str] | None:
    """Split an IdentityHash into (algorithm, lower-case hex), or None if it is not one."""
    match = _IDENTITY_HASH_RE.fullmatch(value)
    if match is None:
        return None
    return match.group(1), match.group(2).lower()


def email_identity_object(email: str, salt: str) -> dict[str, Any]:
    """Return a hashed ``emailAddress`` IdentityObject for ``email`` with the per-credential ``salt``.

    The address is normalised (:func:`badgehub.fields.email_key`) before hashing. Raises
    :class:`DocumentError` (``recipient_email`` / ``recipient_salt``) for an address without ``@`` or
    an empty salt.
    """
    normalized = email_key(email)
    if "@" not in normalized or any(ch.isspace() for ch in normalized):
        raise DocumentError("recipient_email", "The recipient e-mail address is not valid.")
    if not salt:
        raise DocumentError("recipient_salt", "A hashed e-mail identifier needs a salt.")
    return {
        "type": "IdentityObject",
        "identityHash": identity_hash(normalized, salt),
        "identityType": "emailAddress",
        "hashed": True,
        "salt": salt,
    }


def format_timestamp(value: datetime | str, field: str = "timestamp") -> str:
    """Return an RFC 3339 timestamp with a time zone.

    A datetime must be timezone-aware; it is written in UTC with a ``Z`` and whole seconds (sub-second
    precision is dropped). A string must already be a date-time with a zone and is kept as given.
    Raises :class:`DocumentError` (``invalid_timestamp``) otherwise.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise DocumentError("invalid_timestamp", f"{field}: a timestamp must carry a time zone.")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, str) and _DATETIME_RE.fullmatch(value) and parse_timestamp(value) is not None:
        return value
    raise DocumentError("invalid_timestamp", f"{field}: {value!r} is not a date-time with a time zone.")


def parse_timestamp(value: object) -> datetime | None:
    """Parse an XSD/RFC 3339 date-time into an aware datetime (naive input is taken as UTC), or None."""
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if "T" not in text and "t" not in text:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


# The characters of the Unicode categories Cc (controls: U+0000-U+001F, U+007F-U+009F, fixed by the standard)
# and Cs (surrogates), but tab and newline: one regular expression, where a category look-up per character cost
# a millisecond for every credential built (the achievement's texts and image are checked each time).
_FORBIDDEN: Final = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def forbidden_characters(text: str) -> list[str]:
    """Return the characters of ``text`` that documents refuse (controls except tab/newline, surrogates)."""
    return _FORBIDDEN.findall(text)


def clean_text(text: str) -> str:
    """Make free text acceptable to the builders: CR LF and CR become LF, other refused characters go."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _FORBIDDEN.sub("", text)


def string_values(value: object) -> list[str]:
    """A string or the strings of a list, as a list (``type`` may be either)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []
