"""The verification report: a fixed sequence of named checks, each with a stable code and a message.

Every report has the same checks in the same order (:data:`CHECK_IDS`); a check that could not run
is ``skipped`` with a code saying why. Messages are plain English for people who are not
specialists; every template lives in :data:`MESSAGES`, keyed by code, so that the web layer can
translate by code and fill in the same ``params``.

``verified`` is true exactly when no check failed and the ``proof`` check passed or passed with a
warning. Warnings never make a credential unverified; they say what could not be confirmed. A
skipped ``proof`` (an OB 2.0 badge whose hosted copy could not be fetched) leaves it unverified.
"""

from __future__ import annotations

import enum
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

CHECK_IDS: Final = (
    "parse",
    "context",
    "type",
    "structure",
    "schema",
    "proof",
    "issuer_key",
    "status",
    "validity",
    "recipient",
    "endorsements",
)
"""Every report lists these checks, in this order."""

CheckId = Literal[
    "parse",
    "context",
    "type",
    "structure",
    "schema",
    "proof",
    "issuer_key",
    "status",
    "validity",
    "recipient",
    "endorsements",
]


class CheckStatus(enum.StrEnum):
    """Outcome of one check."""

    PASSED = "passed"
    FAILED = "failed"
    WARNING = "warning"
    SKIPPED = "skipped"


MESSAGES: Final[Mapping[str, str]] = {
    # parse
    "parsed_json": "The file was read as a credential in JSON format.",
    "parsed_jwt": "The file was read as a credential in signed-token (JWT) format.",
    "parsed_png": "A credential was found inside the PNG image.",
    "parsed_svg": "A credential was found inside the SVG image.",
    "parsed_ob2": "The file was read as an Open Badges 2.0 badge.",
    "empty_input": "Nothing was given to check.",
    "input_too_large": "The file is too large to be checked.",
    "not_utf8": "The file is not readable text and not a badge image.",
    "unknown_format": "This is not a format that can hold a badge (JSON, JWT, PNG or SVG).",
    "invalid_json": "The file looks like JSON but is damaged, so it cannot be read.",
    "not_an_object": "The file does not contain a credential.",
    "invalid_jwt": "The signed token (JWT) is damaged and cannot be read.",
    "image_unreadable": "The image is damaged or unsafe, so no badge could be read from it ({detail}).",
    "image_without_badge": "The image does not contain a badge.",
    "baked_url_unreachable": "The image points to a badge on the web ({url}), which could not be fetched.",
    "url_unreachable": "No badge could be fetched from this address ({url}).",
    # context
    "context_ok": "The credential declares the expected Open Badges 3.0 vocabulary.",
    "context_ob2": "The badge declares the Open Badges 2.0 vocabulary.",
    "context_missing": "The credential does not declare its vocabulary (@context), so its meaning is unclear.",
    "context_not_vc": "The credential does not start with the Verifiable Credentials vocabulary.",
    "context_ob_missing": "The credential does not declare the Open Badges vocabulary.",
    "context_outdated": "The credential uses an older edition of the standard ({detail}). It can still be checked.",
    "context_not_allowed": "The credential uses a vocabulary that is not known here ({detail}), "
    "so it cannot be trusted.",
    "undefined_terms": "The credential contains information that its declared vocabulary does not define "
    "({detail}). Such information is not protected by the signature, so the credential is refused.",
    "undefined_terms_jwt": "The credential contains information that its declared vocabulary does not define "
    "({detail}). The signed token still protects it.",
    "jwt_context_mismatch": "The signed token stores the credential in a way that does not match its version.",
    "jsonld_error": "The credential's vocabulary could not be processed ({detail}).",
    # type
    "type_ok": "The document is an {kind}.",
    "type_invalid": "The document is not an Open Badge credential.",
    "type_endorsement_expected": "An endorsement was expected here, but this document is not an endorsement.",
    # structure
    "structure_ok": "All required information is present.",
    "structure_invalid": "Required information is missing or wrong: {detail}.",
    # schema
    "schema_ok": "The credential follows the official Open Badges 3.0 data format.",
    "schema_compacted": "The credential follows the official data format, written in a shorter form "
    "that is also allowed ({detail}).",
    "schema_invalid": "The credential does not follow the official Open Badges 3.0 data format: {detail}.",
    "schema_unavailable": "The official data format description is not available, so this check was not made.",
    "schema_not_applicable": "This check applies to Open Badges 3.0 credentials in the current format only.",
    # proof
    "proof_ok": "The digital signature is valid: the credential has not been changed since it was issued.",
    "proof_missing": "The credential has no digital signature.",
    "proof_invalid": "The digital signature does not match: the credential was changed after it was issued, "
    "or was not signed by this key.",
    "proof_unsupported": "The credential is signed with a method that cannot be checked here ({detail}).",
    "proof_malformed": "The digital signature is damaged ({detail}).",
    "key_unresolved": "The key needed to check the signature could not be found ({detail}).",
    "key_unreachable": "The key needed to check the signature could not be fetched now ({detail}). "
    "Nothing is known against this badge yet: try again later.",
    "key_not_listed": "The signing key is not one the issuer publishes for issuing credentials ({detail}), "
    "so the signature was not made by the issuer.",
    "key_compromised": "The key that made this signature was declared compromised on {date}, and the "
    "signature is dated {detail}, at or after that moment, so it cannot be trusted.",
    "key_compromised_undated": "The key that made this signature was declared compromised on {date}, and the "
    "signature carries no date that shows it was made before, so it cannot be trusted.",
    "signed_before_compromise": "The digital signature is valid and dated {detail}, before its key was declared "
    "compromised on {date}. It is accepted, but whoever took the key could also date a signature in the past: "
    "the issuer's revocation list is what can still withdraw it.",
    "jwt_claims_mismatch": "The signed token does not agree with the credential inside it: {detail}.",
    "jwt_claims_incomplete": "The digital signature is valid, but the signed token leaves out information it "
    "should repeat ({detail}). The credential inside it is fully protected by the signature.",
    "proof_undefined_terms": "The digital signature cannot be trusted because the credential contains "
    "information outside its declared vocabulary ({detail}).",
    "ob2_hosted_ok": "The badge matches the copy published by its issuer.",
    "ob2_hosted_mismatch": "The badge differs from the copy published by its issuer.",
    "ob2_hosted_unreachable": "The issuer's published copy of this badge could not be fetched ({detail}).",
    "ob2_signed_ok": "The badge's digital signature is valid.",
    "ob2_key_unavailable": "The issuer's key for this badge could not be fetched ({detail}).",
    "ob2_verification_unknown": "The badge does not say how it can be checked.",
    "ob2_signed_form_missing": "This badge is signed, but its signed form was not given, so the signature "
    "could not be checked.",
    # issuer_key
    "issuer_key_ok": "The signing key belongs to the issuer.",
    "issuer_key_mismatch": "The signing key belongs to {controller}, not to the issuer {issuer}.",
    "issuer_key_unconfirmed": "Nothing confirms that the issuer made this signature: the signing key is only "
    "written in the credential itself, or the issuer publishes no list of its keys.",
    "issuer_key_unreachable": "The issuer's list of keys could not be fetched now ({detail}), so it is not known "
    "yet whether the issuer made this signature: try again later.",
    "issuer_key_unavailable": "The issuer's list of keys cannot be fetched ({detail}), so nothing confirms "
    "that the issuer made this signature.",
    "issuer_key_not_listed": "The issuer {issuer} does not list the signing key among the keys it issues "
    "credentials with, so the signature was not made by the issuer.",
    "issuer_key_not_checked": "The signature could not be confirmed, so the signing key was not checked.",
    # status
    "status_ok": "The issuer has not revoked this credential.",
    "status_none": "The credential has no revocation information.",
    "revoked": "The issuer has revoked this credential.",
    "suspended": "The issuer has suspended this credential.",
    "status_unreachable": "The issuer's revocation list could not be fetched ({detail}), so it is not known "
    "whether the credential was revoked.",
    "status_list_invalid": "The issuer's revocation list could not be used: {detail}.",
    "status_list_unverified": "The issuer's revocation list is not genuine: {detail}.",
    "status_list_too_short": "The issuer's revocation list is too short to be valid: it must hold at least "
    "131,072 entries.",
    "status_index_invalid": "The credential's position in the revocation list is invalid.",
    "status_purpose_mismatch": "The revocation list does not serve the purpose the credential names.",
    "status_type_unknown": "The credential uses a kind of revocation information that cannot be checked here "
    "({detail}).",
    "status_list_foreign": "The revocation list was published by someone else than the issuer.",
    "status_list_expired": "The issuer's revocation list is out of date.",
    "status_entry_invalid": "The credential's revocation information is incomplete.",
    # validity
    "validity_ok": "The credential is within its validity period.",
    "not_yet_valid": "The credential is not valid yet: it becomes valid on {date}.",
    "expired": "The credential expired on {date}.",
    "validity_unknown": "The credential's dates could not be read.",
    # recipient
    "recipient_not_requested": "No e-mail address was given, so the recipient was not checked.",
    "recipient_match": "The credential was issued to the given e-mail address.",
    "recipient_mismatch": "The credential was not issued to the given e-mail address.",
    "recipient_unknown_form": "The credential does not name its recipient by e-mail address, so the address "
    "could not be checked.",
    # endorsements
    "no_endorsements": "The credential carries no endorsements.",
    "endorsements_ok": "All {count} endorsement(s) are valid.",
    "endorsements_unverified": "{failed} of {count} endorsement(s) could not be verified.",
    "endorsements_too_deep": "Endorsements are nested too deeply; the deepest ones were not checked.",
    "endorsement_cycle": "This endorsement repeats the document it is in, or another endorsement: it was refused.",
    # generic
    "check_error": "This check could not be completed because the badge contains unexpected data ({detail}).",
    "not_run": "This check was not made because the credential could not be read.",
    "not_applicable": "This check does not apply to this kind of badge.",
}


class _Defaulting(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "…"


def render_message(code: str, params: Mapping[str, Any] | None = None) -> str:
    """Fill the template of ``code`` with ``params`` (missing parameters show as "…")."""
    template = MESSAGES.get(code, code)
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    values = _Defaulting({name: (params or {}).get(name) for name in names if (params or {}).get(name) is not None})
    return template.format_map(values)


@dataclass(frozen=True)
class Check:
    """One named step of the verification: ``id`` (see :data:`CHECK_IDS`), outcome, stable ``code``,
    a plain-English ``message``, the template ``params`` and optional technical ``details``."""

    id: str
    status: CheckStatus
    code: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)
    details: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The check as JSON-ready data."""
        data: dict[str, Any] = {
            "id": self.id,
            "status": self.status.value,
            "code": self.code,
            "message": self.message,
        }
        if self.params:
            data["params"] = dict(self.params)
        if self.details:
            data["details"] = list(self.details)
        return data


def make_check(
    check_id: str,
    status: CheckStatus,
    code: str,
    params: Mapping[str, Any] | None = None,
    details: Sequence[str] = (),
) -> Check:
    """Build a :class:`Check` whose message is rendered from :data:`MESSAGES`."""
    clean = {key: value for key, value in (params or {}).items() if value is not None}
    return Check(check_id, status, code, render_message(code, clean), clean, tuple(details))


@dataclass
class VerificationReport:
    """Result of :func:`badgehub.verification.pipeline.verify`.

    ``checks`` holds one :class:`Check` per id of :data:`CHECK_IDS`, in order. The summary fields
    are filled from the credential when it could be read. ``credential`` is the parsed credential
    (not part of :meth:`to_dict`); ``endorsements`` the reports of embedded endorsements.
    """

    checks: list[Check]
    format: str | None = None
    ob_version: str | None = None
    vc_version: str | None = None
    credential_id: str | None = None
    credential_name: str | None = None
    credential_type: str | None = None
    issuer_id: str | None = None
    issuer_name: str | None = None
    achievement_id: str | None = None
    achievement_name: str | None = None
    valid_from: str | None = None
    valid_until: str | None = None
    revoked: bool | None = None
    suspended: bool | None = None
    expired: bool | None = None
    not_yet_valid: bool | None = None
    credential: dict[str, Any] | None = None
    endorsements: list[VerificationReport] = field(default_factory=list)

    @property
    def issuer_confirmed(self) -> bool:
        """True when the signing key is confirmed as the issuer's (the ``issuer_key`` check passed,
        :mod:`badgehub.verification.binding`). ``verified`` may be true without it: the 1EdTech reading
        accepts a sound signature by a key only written in the credential."""
        check = self.check("issuer_key")
        return check is not None and check.status is CheckStatus.PASSED

    @property
    def verified(self) -> bool:
        """True when no check failed and the signature (``proof``) check passed (possibly with a warning)."""
        if any(check.status is CheckStatus.FAILED for check in self.checks):
            return False
        proof = self.check("proof")
        return proof is not None and proof.status in (CheckStatus.PASSED, CheckStatus.WARNING)

    def check(self, check_id: str) -> Check | None:
        """The check with this id, or None."""
        return next((check for check in self.checks if check.id == check_id), None)

    @property
    def failed(self) -> list[Check]:
        """The failed checks, in order."""
        return [check for check in self.checks if check.status is CheckStatus.FAILED]

    @property
    def warnings(self) -> list[Check]:
        """The checks that ended with a warning, in order."""
        return [check for check in self.checks if check.status is CheckStatus.WARNING]

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data: ``verified``, ``checks`` and the summary fields."""
        return {
            "verified": self.verified,
            "issuer_confirmed": self.issuer_confirmed,
            "checks": [check.to_dict() for check in self.checks],
            "format": self.format,
            "ob_version": self.ob_version,
            "vc_version": self.vc_version,
            "credential_id": self.credential_id,
            "credential_name": self.credential_name,
            "credential_type": self.credential_type,
            "issuer_id": self.issuer_id,
            "issuer_name": self.issuer_name,
            "achievement_id": self.achievement_id,
            "achievement_name": self.achievement_name,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
            "revoked": self.revoked,
            "suspended": self.suspended,
            "expired": self.expired,
            "not_yet_valid": self.not_yet_valid,
            "endorsements": [report.to_dict() for report in self.endorsements],
        }
