"""Open Badges 2.0 assertions (imported legacy badges), verified with OB 2.0 rules (OB3-BRIEF §9, §5.3).

* **Hosted** (``verification.type`` ``HostedBadge`` / ``hosted``): the assertion is fetched again from
  its ``id`` and must be equal to what was given; HTTP 410 Gone or ``"revoked": true`` means revoked;
  the assertion must live on the issuer's origin (or ``verification.allowedOrigins`` /
  ``startsWith`` of the issuer profile).
* **Signed** (``SignedBadge`` / ``signed``): the JWS is checked (RS256 or ES256) with the key named by
  ``verification.creator`` or the issuer profile's ``publicKey`` (a ``CryptographicKey`` with
  ``publicKeyPem``), whose ``owner`` must be the issuer; revocation through the issuer's
  ``revocationList`` (``revokedAssertions``).

When the resolver cannot fetch what is needed, the check is *skipped* with a clear code: the badge is
then not verified, without being declared false.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from badgehub.credentials.documents import parse_timestamp
from badgehub.verification.recipient import email_matches
from badgehub.verification.report import Check, CheckStatus, VerificationReport, make_check
from badgehub.verification.resolver import ResolutionError, web_origin

if TYPE_CHECKING:
    from badgehub.verification.parse import Parsed

OB2_CONTEXTS: Final = frozenset({"https://w3id.org/openbadges/v2", "https://openbadgespec.org/v2/context.json"})
_ASSERTION_TYPES: Final = frozenset({"Assertion", "https://w3id.org/openbadges#Assertion"})
_HOSTED: Final = frozenset({"HostedBadge", "hosted"})
_SIGNED: Final = frozenset({"SignedBadge", "signed"})


class Fetcher(Protocol):
    """What OB 2.0 verification needs from the pipeline: cached fetching and the current time."""

    now: datetime

    def fetch(self, url: str) -> object: ...


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _types(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


class _Ob2Run:
    def __init__(
        self, assertion: dict[str, Any], token: str | None, fetcher: Fetcher, known_recipient: str | None
    ) -> None:
        self.assertion = assertion
        self.token = token
        self.fetcher = fetcher
        self.known_recipient = known_recipient
        self.badge_class: Mapping[str, Any] | None = None
        self.issuer: Mapping[str, Any] | None = None
        self.issuer_id: str | None = None
        self.hosted_copy: object = None
        self.hosted_gone = False
        self.key_owner: str | None = None
        self.proof_ok = False

    def _get(self, value: object) -> Mapping[str, Any] | None:
        """An embedded object, or the JSON object behind a URL (None when it cannot be fetched)."""
        if isinstance(value, Mapping):
            return value
        if isinstance(value, str):
            try:
                document = self.fetcher.fetch(value)
            except ResolutionError:
                return None
            return document if isinstance(document, Mapping) else None
        return None

    def load_links(self) -> None:
        self.badge_class = self._get(self.assertion.get("badge"))
        issuer_ref = self.badge_class.get("issuer") if self.badge_class is not None else None
        self.issuer_id = issuer_ref if isinstance(issuer_ref, str) else None
        self.issuer = self._get(issuer_ref)
        if self.issuer is not None and self.issuer_id is None:
            self.issuer_id = _text(self.issuer.get("id"))

    def check_type(self) -> Check:
        if set(_types(self.assertion.get("type"))) & _ASSERTION_TYPES:
            return make_check("type", CheckStatus.PASSED, "type_ok", {"kind": "Open Badges 2.0 badge"})
        return make_check("type", CheckStatus.FAILED, "type_invalid")

    def check_structure(self) -> Check:
        problems = []
        if not isinstance(self.assertion.get("id"), str):
            problems.append("the badge has no id")
        recipient = self.assertion.get("recipient")
        if not isinstance(recipient, Mapping) or not isinstance(recipient.get("identity"), str):
            problems.append("the recipient is missing")
        if not isinstance(self.assertion.get("badge"), str | Mapping):
            problems.append("the badge class is missing")
        verification = self.assertion.get("verification")
        if not isinstance(verification, Mapping) or not _types(verification.get("type")):
            problems.append("the verification method is missing")
        if parse_timestamp(self.assertion.get("issuedOn")) is None:
            problems.append("issuedOn is missing or not a date")
        if problems:
            return make_check(
                "structure", CheckStatus.FAILED, "structure_invalid", {"detail": "; ".join(problems[:3])}, problems
            )
        return make_check("structure", CheckStatus.PASSED, "structure_ok")

    def verification_kind(self) -> str | None:
        verification = self.assertion.get("verification")
        kinds = set(_types(verification.get("type"))) if isinstance(verification, Mapping) else set()
        if kinds & _SIGNED or (self.token is not None and not kinds & _HOSTED):
            return "signed"
        if kinds & _HOSTED:
            return "hosted"
        return None

    def check_proof(self) -> Check:
        kind = self.verification_kind()
        if kind == "hosted":
            return self._hosted()
        if kind == "signed":
            return self._signed()
        return make_check("proof", CheckStatus.FAILED, "ob2_verification_unknown")

    def _hosted(self) -> Check:
        url = self.assertion.get("id")
        if not isinstance(url, str) or web_origin(url) is None:
            return make_check("proof", CheckStatus.FAILED, "ob2_hosted_mismatch", {}, ["the id is not a web address"])
        try:
            self.hosted_copy = self.fetcher.fetch(url)
        except ResolutionError as exc:
            self.hosted_gone = exc.code == "gone"
            return make_check("proof", CheckStatus.SKIPPED, "ob2_hosted_unreachable", {"detail": exc.message[:200]})
        if self.hosted_copy != self.assertion:
            return make_check("proof", CheckStatus.FAILED, "ob2_hosted_mismatch")
        self.proof_ok = True
        return make_check("proof", CheckStatus.PASSED, "ob2_hosted_ok")

    def _key_reference(self) -> object:
        verification = self.assertion.get("verification")
        creator = verification.get("creator") if isinstance(verification, Mapping) else None
        if creator is not None:
            return creator
        public_key = self.issuer.get("publicKey") if self.issuer is not None else None
        if isinstance(public_key, list):
            return public_key[0] if public_key else None
        return public_key

    def _signed(self) -> Check:
        if self.token is None:
            return make_check("proof", CheckStatus.SKIPPED, "ob2_signed_form_missing")
        header_segment, payload_segment, signature_segment = self.token.split(".")
        try:
            header = json.loads(_b64url(header_segment))
            signature = _b64url(signature_segment)
        except ValueError:
            return make_check("proof", CheckStatus.FAILED, "proof_malformed", {"detail": "damaged signature"})
        alg = header.get("alg") if isinstance(header, Mapping) else None
        if alg not in ("RS256", "ES256"):
            return make_check("proof", CheckStatus.FAILED, "proof_unsupported", {"detail": f"algorithm {alg!r}"})
        key_document = self._get(self._key_reference())
        if key_document is None or not isinstance(key_document.get("publicKeyPem"), str):
            return make_check("proof", CheckStatus.SKIPPED, "ob2_key_unavailable", {"detail": "no publicKeyPem"})
        try:
            key = serialization.load_pem_public_key(key_document["publicKeyPem"].encode("ascii"))
        except (ValueError, UnicodeEncodeError, TypeError):
            return make_check("proof", CheckStatus.FAILED, "key_unresolved", {"detail": "the published key is damaged"})
        signing_input = f"{header_segment}.{payload_segment}".encode("ascii")
        try:
            if alg == "RS256" and isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048:
                key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
            elif alg == "ES256" and isinstance(key, ec.EllipticCurvePublicKey) and len(signature) == 64:
                der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
                key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
            else:
                return make_check(
                    "proof", CheckStatus.FAILED, "proof_unsupported", {"detail": "key/algorithm mismatch"}
                )
        except InvalidSignature:
            return make_check("proof", CheckStatus.FAILED, "proof_invalid")
        self.key_owner = _text(key_document.get("owner"))
        self.proof_ok = True
        return make_check("proof", CheckStatus.PASSED, "ob2_signed_ok")

    def check_issuer_key(self) -> Check:
        if not self.proof_ok:
            return make_check("issuer_key", CheckStatus.SKIPPED, "issuer_key_not_checked")
        if self.issuer_id is None:
            return make_check("issuer_key", CheckStatus.WARNING, "issuer_key_unconfirmed")
        if self.verification_kind() == "signed":
            if self.key_owner != self.issuer_id:
                return make_check(
                    "issuer_key",
                    CheckStatus.FAILED,
                    "issuer_key_mismatch",
                    {"controller": self.key_owner or "an unknown owner", "issuer": self.issuer_id},
                )
            return self._key_authorised()
        # Hosted: the assertion must be published where the issuer allows.
        assertion_id = str(self.assertion.get("id"))
        verification = self.issuer.get("verification") if self.issuer is not None else None
        allowed = (verification.get("allowedOrigins") if isinstance(verification, Mapping) else None) or web_origin(
            self.issuer_id
        )
        origins = {o.lower().rstrip("/") for o in _types(allowed)} if allowed else set()
        origins = {o if "://" in o else f"https://{o}" for o in origins}
        starts = verification.get("startsWith") if isinstance(verification, Mapping) else None
        ok = web_origin(assertion_id) in origins
        if starts is not None:
            ok = ok and any(assertion_id.startswith(prefix) for prefix in _types(starts))
        if ok:
            return make_check("issuer_key", CheckStatus.PASSED, "issuer_key_ok")
        return make_check(
            "issuer_key",
            CheckStatus.FAILED,
            "issuer_key_mismatch",
            {"controller": web_origin(assertion_id) or assertion_id, "issuer": self.issuer_id},
        )

    def _key_authorised(self) -> Check:
        """The OB 2.0 key binding: a key named by ``verification.creator`` "must be authorized in the issuer
        Profile as well" (its ``publicKey``). The key document's ``owner`` is the key's own word, so the
        profile is read as the issuer publishes it at its id, never as the signed assertion embeds it."""
        key_id = self._key_reference()
        key_id = key_id.get("id") if isinstance(key_id, Mapping) else key_id
        if not isinstance(key_id, str) or self.issuer_id is None:
            return make_check("issuer_key", CheckStatus.FAILED, "issuer_key_not_listed", {"issuer": self.issuer_id})
        try:
            profile = self.fetcher.fetch(self.issuer_id)
        except ResolutionError as exc:
            code = "issuer_key_unreachable" if exc.code == "fetch_failed" else "issuer_key_unavailable"
            return make_check("issuer_key", CheckStatus.FAILED, code, {"detail": exc.message[:200]})
        listed = profile.get("publicKey") if isinstance(profile, Mapping) else None
        items = listed if isinstance(listed, list) else [listed]
        ids = {item.get("id") if isinstance(item, Mapping) else item for item in items}
        if key_id in ids:
            return make_check("issuer_key", CheckStatus.PASSED, "issuer_key_ok")
        return make_check("issuer_key", CheckStatus.FAILED, "issuer_key_not_listed", {"issuer": self.issuer_id},
                          [key_id])

    def check_status(self, report: VerificationReport) -> Check:
        copy = self.hosted_copy if isinstance(self.hosted_copy, Mapping) else {}
        if self.hosted_gone or self.assertion.get("revoked") is True or copy.get("revoked") is True:
            report.revoked = True
            return make_check("status", CheckStatus.FAILED, "revoked")
        if self.verification_kind() == "hosted":
            if self.hosted_copy is None:
                return make_check("status", CheckStatus.WARNING, "status_unreachable", {"detail": "not fetched"})
            report.revoked = False
            return make_check("status", CheckStatus.PASSED, "status_ok")
        list_url = self.issuer.get("revocationList") if self.issuer is not None else None
        if list_url is None:
            if self.issuer is None:
                return make_check("status", CheckStatus.WARNING, "status_unreachable", {"detail": "issuer profile"})
            report.revoked = False
            return make_check("status", CheckStatus.SKIPPED, "status_none")
        revocations = self._get(list_url)
        if revocations is None:
            return make_check("status", CheckStatus.WARNING, "status_unreachable", {"detail": str(list_url)[:200]})
        revoked = revocations.get("revokedAssertions")
        for item in revoked if isinstance(revoked, list) else []:
            item_id = item if isinstance(item, str) else item.get("id") if isinstance(item, Mapping) else None
            if item_id is not None and item_id == self.assertion.get("id"):
                report.revoked = True
                return make_check("status", CheckStatus.FAILED, "revoked")
        report.revoked = False
        return make_check("status", CheckStatus.PASSED, "status_ok")

    def check_validity(self, report: VerificationReport) -> Check:
        start = parse_timestamp(self.assertion.get("issuedOn"))
        expires = self.assertion.get("expires")
        end = parse_timestamp(expires) if expires is not None else None
        if start is None or (expires is not None and end is None):
            return make_check("validity", CheckStatus.FAILED, "validity_unknown")
        now = self.fetcher.now
        if now < start:
            report.not_yet_valid = True
            return make_check("validity", CheckStatus.FAILED, "not_yet_valid", {"date": start.strftime("%Y-%m-%d")})
        report.not_yet_valid = False
        if end is not None and now >= end:
            report.expired = True
            return make_check("validity", CheckStatus.FAILED, "expired", {"date": end.strftime("%Y-%m-%d")})
        report.expired = False
        return make_check("validity", CheckStatus.PASSED, "validity_ok")

    def check_recipient(self) -> Check:
        known = self.known_recipient
        if known is None or not known.strip():
            return make_check("recipient", CheckStatus.SKIPPED, "recipient_not_requested")
        recipient = self.assertion.get("recipient")
        if not isinstance(recipient, Mapping) or recipient.get("type") != "email":
            return make_check("recipient", CheckStatus.WARNING, "recipient_unknown_form")
        if email_matches(recipient, known):
            return make_check("recipient", CheckStatus.PASSED, "recipient_match")
        return make_check("recipient", CheckStatus.FAILED, "recipient_mismatch")


def verify_ob2(parsed: Parsed, parse_check: Check, fetcher: Fetcher, known_recipient: str | None) -> VerificationReport:
    """Run the OB 2.0 checks on a parsed assertion (JSON, or the payload of a signed JWS)."""
    assertion = parsed.credential
    run = _Ob2Run(assertion, parsed.token, fetcher, known_recipient)
    report = VerificationReport(checks=[parse_check], format=parsed.format, ob_version="2.0")
    report.credential = assertion
    report.credential_id = _text(assertion.get("id"))
    report.credential_type = "Assertion"
    report.valid_from = _text(assertion.get("issuedOn"))
    report.valid_until = _text(assertion.get("expires"))
    run.load_links()
    if run.badge_class is not None:
        report.achievement_id = _text(run.badge_class.get("id"))
        report.achievement_name = _text(run.badge_class.get("name"))
        report.credential_name = report.achievement_name
    report.issuer_id = run.issuer_id
    report.issuer_name = _text(run.issuer.get("name")) if run.issuer is not None else None
    report.checks += [
        make_check("context", CheckStatus.PASSED, "context_ob2"),
        run.check_type(),
        run.check_structure(),
        make_check("schema", CheckStatus.SKIPPED, "not_applicable"),
        run.check_proof(),
        run.check_issuer_key(),
        run.check_status(report),
        run.check_validity(report),
        run.check_recipient(),
        make_check("endorsements", CheckStatus.SKIPPED, "not_applicable"),
    ]
    return report
