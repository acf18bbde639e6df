"""The verification pipeline: any Open Badge in, a :class:`VerificationReport` out, never an exception.

``verify(data, resolver, now)`` accepts a credential as a dict, JSON text or bytes, a compact JWT, or a
baked PNG or SVG, and runs the checks of :data:`~badgehub.verification.report.CHECK_IDS` in order
(OB3-BRIEF §3.4, with the 1EdTech validator's practical order). Decisions, each documented where it
is implemented:

* **parse**: anything unreadable (damaged JSON, a truncated JWT, a hostile image) is a failed
  ``parse`` check, never an exception; JSON nested deeper than :data:`MAX_JSON_DEPTH` is refused.
* **context**: the ``@context`` order and allow-list, then JSON-LD *safe mode*. For an embedded proof
  (Data Integrity) an undefined term **fails here** (``undefined_terms``): pyld would silently drop
  it from what is signed. Inside a VC-JWT every byte is signed, so there it is only a warning.
* **schema**: the official JSON schema; a credential that passes only once the allowed JSON-LD
  compactions are expanded (the spec's own test vector, whose ``proof`` is an object) gets a
  *warning*, anything else that does not validate *fails*. VC DM 1.1 credentials skip this check.
* **proof**: any one valid proof suffices; unknown proof types are ignored with a note.
* **compromised keys**: a key resolved with a ``revoked_at`` date (a published ``revoked`` value, or the
  compromise date of one of BadgeHub's own keys) fails the ``proof`` check for a signature dated at or
  after it (``key_compromised``) or not dated at all (``key_compromised_undated``); the date is the Data
  Integrity ``proof.created``, or the JWT ``iat`` (else ``nbf``). An earlier signature passes with a
  warning (``signed_before_compromise``): the date is written by the signer, so a thief could backdate.
* **issuer_key**: the key must be the issuer's, by the one rule of :mod:`badgehub.verification.binding`
  (did:key: the DID's own key; did:web: listed under ``assertionMethod`` of its document, which must be
  fetched; a key only asserted by the credential of an https or urn:uuid issuer is a *warning*).
* **keys that cannot be found**: a document that cannot be fetched is ``key_unreachable`` (not verified,
  try again later); one that does not list the key for issuing is ``key_not_listed`` (not genuine).
* **status**: an unreachable list is a *warning* (``status_unreachable``); a list that is present
  but not genuine, too short, or of another purpose *fails*.
* **endorsements**: each embedded endorsement runs through this same pipeline (depth-limited);
  an endorsement that does not verify is a *warning* on the credential: it is a third party's
  claim, and the credential's own signature is unaffected.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Final, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from badgehub.credentials import vc_jwt
from badgehub.credentials.baking import BakingError, ExtractedBadge, extract_from_png, extract_from_svg
from badgehub.credentials.canonical import check_safe_mode
from badgehub.credentials.contexts import VC_V1_CONTEXT, VC_V2_CONTEXT, is_allowed_context
from badgehub.credentials.data_integrity import VERIFYING_SUITES, document_proofs, verify_data_integrity_proof
from badgehub.credentials.documents import (
    ACHIEVEMENT_TYPES,
    ALIGNMENT_TARGET_TYPES,
    IDENTIFIER_TYPES,
    RESULT_STATUSES,
    is_enum_value,
    normalize_email,
    parse_identity_hash,
    parse_timestamp,
    string_values,
)
from badgehub.credentials.errors import ContextNotAllowed, CredentialError, UndefinedTermError
from badgehub.credentials.keys import public_key_from_jwk
from badgehub.credentials.status_list import (
    LIST_CREDENTIAL_TYPE,
    MIN_ENTRIES,
    StatusListError,
    decode_status_list,
    get_status,
    parse_status_list_index,
)
from badgehub.verification import ob2
from badgehub.verification.binding import RETRYABLE_RESOLUTION, bind_issuer_key
from badgehub.verification.memo import CheckMemo
from badgehub.verification.recipient import email_identifiers, email_matches
from badgehub.verification.report import CHECK_IDS, Check, CheckStatus, VerificationReport, make_check
from badgehub.verification.resolver import ResolutionError, ResolvedKey, Resolver
from badgehub.verification.schema import SchemaUnavailable, validate_credential

MAX_INPUT_BYTES: Final = 20 * 1024 * 1024
"""Largest input accepted (a baked image)."""
MAX_TEXT_BYTES: Final = 4 * 1024 * 1024
"""Largest JSON or JWT text accepted."""
MAX_JSON_DEPTH: Final = 64
"""Deepest JSON nesting accepted (an OB 3.0 credential needs about 12)."""
MAX_ENDORSEMENT_DEPTH: Final = 2
"""Endorsements of endorsements are checked down to this depth."""
MAX_ENDORSEMENTS: Final = 16
"""At most this many endorsements are checked per credential."""
MAX_PROOFS: Final = 4
"""At most this many supported proofs are tried per credential."""

OB_CONTEXT_RE: Final = re.compile(r"https://purl\.imsglobal\.org/spec/ob/v3p0/context(-3\.\d\.\d)?\.json")
CURRENT_OB_CONTEXT: Final = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
JWT_CLAIMS: Final = frozenset({"iss", "sub", "jti", "nbf", "exp", "iat", "aud"})
_JWS_RE: Final = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_OB_TYPES: Final = frozenset({"OpenBadgeCredential", "AchievementCredential"})
T = TypeVar("T")


def verify(
    data: str | bytes | Mapping[str, Any],
    resolver: Resolver,
    now: datetime,
    known_recipient: str | None = None,
    *,
    schema_path: Path | None = None,
    memo: CheckMemo | None = None,
) -> VerificationReport:
    """Verify an Open Badge (OB 3.0 or 2.0) and return the report; never raises for bad input.

    ``data`` is a credential dict, JSON text or bytes, a compact JWT, or a baked PNG/SVG. ``resolver``
    answers key and document look-ups (see :mod:`badgehub.verification.resolver`); ``now`` is the
    instant the validity dates are compared with (naive means UTC). ``known_recipient`` is an e-mail
    address to check against the recipient identifiers. ``schema_path`` replaces the bundled official
    JSON schema. ``memo`` remembers the pure, expensive checks of exact contents (safe mode, schema,
    signatures; see :mod:`badgehub.verification.memo`): everything else is recomputed on every call.
    """
    moment = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    verifier = _Verifier(resolver, moment, schema_path, memo)
    try:
        return verifier.verify_input(data, known_recipient)
    except RecursionError:
        return _unreadable("invalid_json", None)
    except Exception as exc:  # the last line of defence: bad input must never escape as an exception
        return _unreadable("check_error", None, {"detail": type(exc).__name__})


# ------------------------------------------------------------------------------------------ parsing


@dataclass
class Parsed:
    """What the ``parse`` step produced: a credential (or OB 2.0 assertion) and how it was carried."""

    format: str
    credential: dict[str, Any]
    token: str | None = None
    decoded: vc_jwt.DecodedJwt | None = None
    ob_version: str = "3.0"
    parse_code: str = "parsed_json"


class ParseFailure(Exception):
    """A failed ``parse`` step: ``code`` and template ``params``."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def _json_depth_ok(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(node, Mapping):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return True


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _load_json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise ParseFailure("invalid_json") from exc
    if not isinstance(value, dict):
        raise ParseFailure("not_an_object")
    if not _json_depth_ok(value):
        raise ParseFailure("invalid_json")
    return value


def _b64url_json(segment: str) -> Any:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _is_ob2(document: Mapping[str, Any]) -> bool:
    context = document.get("@context")
    contexts = context if isinstance(context, list) else [context]
    return any(isinstance(c, str) and c.rstrip("/") in ob2.OB2_CONTEXTS for c in contexts)


class _Verifier:
    def __init__(self, resolver: Resolver, now: datetime, schema_path: Path | None,
                 memo: CheckMemo | None = None) -> None:
        self.resolver = resolver
        self.now = now
        self.schema_path = schema_path
        self.memo = memo
        self._documents: dict[str, object | ResolutionError] = {}

    def pure(self, kind: str, parts: tuple[object, ...], compute: Callable[[], T]) -> T:
        """Run a check that depends on ``parts`` only, through the memo when there is one."""
        return compute() if self.memo is None else self.memo.run(kind, parts, compute)

    # -- shared helpers

    def fetch(self, url: str) -> object:
        """Fetch through the resolver once per run (status lists are shared by endorsements)."""
        cached = self._documents.get(url)
        if cached is None:
            try:
                cached = self.resolver.fetch_document(url)
            except ResolutionError as exc:
                cached = exc
            self._documents[url] = cached
        if isinstance(cached, ResolutionError):
            raise cached
        return cached

    # -- entry

    def verify_input(self, data: object, known_recipient: str | None) -> VerificationReport:
        try:
            parsed = self.parse(data)
        except ParseFailure as failure:
            return _unreadable(failure.code, _guess_format(data), failure.params)
        parse_check = make_check("parse", CheckStatus.PASSED, parsed.parse_code)
        if parsed.ob_version == "2.0":
            return ob2.verify_ob2(parsed, parse_check, self, known_recipient)
        return self.verify_credential(parsed, parse_check, known_recipient, depth=0, expect=None)

    def parse(self, data: object) -> Parsed:
        if isinstance(data, Mapping):
            try:
                credential = json.loads(json.dumps(data, allow_nan=False))
            except (TypeError, ValueError, RecursionError) as exc:
                raise ParseFailure("not_an_object") from exc
            if not isinstance(credential, dict):
                raise ParseFailure("not_an_object")
            if not _json_depth_ok(credential):
                raise ParseFailure("invalid_json")
            return self._classify_json(credential, "json")
        if isinstance(data, bytearray | memoryview):
            data = bytes(data)
        if isinstance(data, str):
            if len(data) > MAX_INPUT_BYTES:
                raise ParseFailure("input_too_large")
            stripped = data.lstrip("\ufeff \t\r\n")
            if stripped.startswith("<"):
                data = data.encode("utf-8")
            else:
                return self._parse_text(data, "json")
        if not isinstance(data, bytes):
            raise ParseFailure("unknown_format")
        if not data.strip():
            raise ParseFailure("empty_input")
        if len(data) > MAX_INPUT_BYTES:
            raise ParseFailure("input_too_large")
        if data.startswith(b"\x89PNG"):
            return self._parse_image(data, "png")
        head = data.lstrip(b"\xef\xbb\xbf \t\r\n")
        if head.startswith(b"<"):
            return self._parse_image(data, "svg")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ParseFailure("not_utf8") from exc
        return self._parse_text(text, "json")

    def _parse_image(self, data: bytes, kind: str) -> Parsed:
        try:
            badge = extract_from_png(data) if kind == "png" else extract_from_svg(data)
        except BakingError as exc:
            raise ParseFailure("image_unreadable", detail=exc.message) from exc
        except (ValueError, RecursionError) as exc:  # defensive: never let an image escape as an exception
            raise ParseFailure("image_unreadable", detail=str(exc)[:100]) from exc
        if badge is None:
            raise ParseFailure("image_without_badge")
        return self._parse_baked(badge, kind)

    def _parse_baked(self, badge: ExtractedBadge, kind: str) -> Parsed:
        if badge.kind == "url":
            # OB 2.0 legacy bakes carry the URL of a hosted assertion.
            parsed = self._parse_url(badge.payload.strip(), kind, "baked_url_unreachable")
        else:
            parsed = self._parse_text(badge.payload, kind, follow_url=False)
        parsed.parse_code = "parsed_ob2" if parsed.ob_version == "2.0" else f"parsed_{kind}"
        return parsed

    def _parse_url(self, url: str, fmt: str, failure_code: str) -> Parsed:
        """Fetch a credential published at ``url`` (through the resolver, so under its policies)."""
        try:
            document = self.fetch(url)
        except ResolutionError as exc:
            raise ParseFailure(failure_code, url=url[:200]) from exc
        if isinstance(document, dict):
            if not _json_depth_ok(document):
                raise ParseFailure("invalid_json")
            return self._classify_json(document, fmt)
        if isinstance(document, str):
            return self._parse_text(document, fmt, follow_url=False)
        raise ParseFailure("not_an_object")

    def _parse_text(self, text: str, fmt: str, *, follow_url: bool = True) -> Parsed:
        stripped = text.strip().lstrip("\ufeff")
        if not stripped:
            raise ParseFailure("empty_input")
        if len(stripped.encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES:
            raise ParseFailure("input_too_large")
        if follow_url and stripped.startswith(("https://", "http://")) and not any(c.isspace() for c in stripped):
            # A credential's address (the /verify page accepts one): fetched through the resolver.
            return self._parse_url(stripped, fmt, "url_unreachable")
        if stripped.startswith("{"):
            return self._classify_json(_load_json_object(stripped), fmt)
        if _JWS_RE.fullmatch(stripped):
            return self._parse_jwt(stripped, "jwt" if fmt == "json" else fmt)
        if stripped.count(".") == 2 and " " not in stripped:
            raise ParseFailure("invalid_jwt")
        raise ParseFailure("unknown_format")

    def _parse_jwt(self, token: str, fmt: str) -> Parsed:
        header_segment, payload_segment, _ = token.split(".")
        payload = _b64url_json(payload_segment)
        header = _b64url_json(header_segment)
        if not isinstance(header, dict) or not isinstance(payload, dict) or not _json_depth_ok(payload):
            raise ParseFailure("invalid_jwt")
        if _is_ob2(payload):
            parsed = Parsed(fmt, payload, token=token, ob_version="2.0", parse_code="parsed_ob2")
            return parsed
        try:
            decoded = vc_jwt.decode_vc_jwt(token)
        except CredentialError as exc:
            raise ParseFailure("invalid_jwt") from exc
        credential = decoded.credential
        if not isinstance(credential, dict):
            raise ParseFailure("invalid_jwt")
        return Parsed(fmt, dict(credential), token=token, decoded=decoded, parse_code=f"parsed_{fmt}")

    def _classify_json(self, document: dict[str, Any], fmt: str) -> Parsed:
        if _is_ob2(document):
            return Parsed(fmt, document, ob_version="2.0", parse_code="parsed_ob2")
        return Parsed(fmt, document, parse_code=f"parsed_{fmt}")

    # -- OB 3.0 credentials and endorsements

    def verify_credential(
        self, parsed: Parsed, parse_check: Check, known_recipient: str | None, *, depth: int, expect: str | None
    ) -> VerificationReport:
        run = _Run(self, parsed, known_recipient, depth, expect)
        report = run.execute(parse_check)
        return report


def _guess_format(data: object) -> str | None:
    if isinstance(data, Mapping):
        return "json"
    if isinstance(data, bytes | bytearray):
        if bytes(data[:4]) == b"\x89PNG":
            return "png"
        if bytes(data).lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<":
            return "svg"
    if isinstance(data, str) and data.lstrip("\ufeff \t\r\n")[:1] == "<":
        return "svg"
    if isinstance(data, str | bytes | bytearray):
        text = data if isinstance(data, str) else bytes(data).decode("utf-8", "replace")
        return "jwt" if text.strip().count(".") == 2 and not text.strip().startswith("{") else "json"
    return None


def _unreadable(code: str, fmt: str | None, params: Mapping[str, Any] | None = None) -> VerificationReport:
    checks = [make_check("parse", CheckStatus.FAILED, code, params)]
    checks += [make_check(check_id, CheckStatus.SKIPPED, "not_run") for check_id in CHECK_IDS[1:]]
    return VerificationReport(checks=checks, format=fmt)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def issuer_id_of(credential: Mapping[str, Any]) -> str | None:
    """The issuer id of a credential whose ``issuer`` is a URI or a Profile object."""
    issuer = credential.get("issuer")
    if isinstance(issuer, str):
        return issuer
    if isinstance(issuer, Mapping):
        return _text(issuer.get("id"))
    return None


@dataclass
class _Run:
    """The state of one OB 3.0 credential (or endorsement) through the checks."""

    verifier: _Verifier
    parsed: Parsed
    known_recipient: str | None
    depth: int
    expect: str | None
    report: VerificationReport = field(init=False)
    vc_version: str | None = None
    key: ResolvedKey | None = None
    proof_ok: bool = False
    signed_at: datetime | None = None

    @property
    def credential(self) -> dict[str, Any]:
        return self.parsed.credential

    @property
    def is_jwt(self) -> bool:
        return self.parsed.token is not None

    def execute(self, parse_check: Check) -> VerificationReport:
        self.report = VerificationReport(checks=[parse_check], format=self.parsed.format, ob_version="3.0")
        self.report.credential = self.credential
        self._summarise()
        steps: list[tuple[str, Callable[[], Check]]] = [
            ("context", self.check_context),
            ("type", self.check_type),
            ("structure", self.check_structure),
            ("schema", self.check_schema),
            ("proof", self.check_proof),
            ("issuer_key", self.check_issuer_key),
            ("status", self.check_status),
            ("validity", self.check_validity),
            ("recipient", self.check_recipient),
            ("endorsements", self.check_endorsements),
        ]
        for check_id, step in steps:
            try:
                check = step()
            except RecursionError:
                check = make_check(check_id, CheckStatus.FAILED, "structure_invalid", {"detail": "nested too deeply"})
            except Exception as exc:  # a defect met by unexpected data fails this check, not the caller
                check = make_check(check_id, CheckStatus.FAILED, "check_error", {"detail": type(exc).__name__})
            self.report.checks.append(check)
        self.report.vc_version = self.vc_version
        return self.report

    # -- summary

    def _summarise(self) -> None:
        credential = self.credential
        report = self.report
        report.credential_id = _text(credential.get("id"))
        report.credential_name = _text(credential.get("name"))
        types = string_values(credential.get("type"))
        report.credential_type = next(
            (t for t in types if t in (*_OB_TYPES, "EndorsementCredential")), types[-1] if types else None
        )
        report.issuer_id = issuer_id_of(credential)
        issuer = credential.get("issuer")
        if isinstance(issuer, Mapping):
            report.issuer_name = _text(issuer.get("name"))
        subject = credential.get("credentialSubject")
        if isinstance(subject, Mapping):
            achievement = subject.get("achievement")
            if isinstance(achievement, Mapping):
                report.achievement_id = _text(achievement.get("id"))
                report.achievement_name = _text(achievement.get("name"))
        start, end = self._dates()
        report.valid_from, report.valid_until = start, end

    def _dates(self) -> tuple[str | None, str | None]:
        credential = self.credential
        start = credential.get("validFrom", credential.get("issuanceDate"))
        end = credential.get("validUntil", credential.get("expirationDate"))
        return _text(start), _text(end)

    # -- context

    def check_context(self) -> Check:
        if self.kind == "status_list":
            return self.check_plain_context()
        credential = self.credential
        context = credential.get("@context")
        if context is None:
            return make_check("context", CheckStatus.FAILED, "context_missing")
        contexts = context if isinstance(context, list) else [context]
        if not contexts:
            return make_check("context", CheckStatus.FAILED, "context_missing")
        first = contexts[0]
        notes: list[str] = []
        if first == VC_V2_CONTEXT:
            self.vc_version = "2.0"
        elif first == VC_V1_CONTEXT:
            self.vc_version = "1.1"
            notes.append("Verifiable Credentials Data Model 1.1")
        else:
            return make_check("context", CheckStatus.FAILED, "context_not_vc")
        if self.parsed.decoded is not None:
            in_vc_claim = isinstance(self.parsed.decoded.payload, Mapping) and "vc" in self.parsed.decoded.payload
            if in_vc_claim != (self.vc_version == "1.1"):
                return make_check("context", CheckStatus.FAILED, "jwt_context_mismatch")
        second = contexts[1] if len(contexts) > 1 else None
        if not (isinstance(second, str) and OB_CONTEXT_RE.fullmatch(second)):
            return make_check("context", CheckStatus.FAILED, "context_ob_missing")
        if second != CURRENT_OB_CONTEXT:
            notes.append(f"Open Badges context {second.rsplit('/', 1)[-1]}")
        for item in contexts:
            if isinstance(item, str) and not is_allowed_context(item):
                return make_check("context", CheckStatus.FAILED, "context_not_allowed", {"detail": item[:200]})
            if not isinstance(item, str | Mapping):
                return make_check("context", CheckStatus.FAILED, "context_missing")
        document = credential
        if self.is_jwt:
            document = {key: value for key, value in credential.items() if key not in JWT_CLAIMS}
        try:
            self.verifier.pure("safe_mode", (document,), lambda: check_safe_mode(document))
        except UndefinedTermError as exc:
            detail = ", ".join(exc.terms[:5]) + (" …" if len(exc.terms) > 5 else "")
            if self.is_jwt:
                return make_check("context", CheckStatus.WARNING, "undefined_terms_jwt", {"detail": detail}, exc.terms)
            return make_check("context", CheckStatus.FAILED, "undefined_terms", {"detail": detail}, exc.terms)
        except ContextNotAllowed as exc:
            return make_check("context", CheckStatus.FAILED, "context_not_allowed", {"detail": exc.url[:200]})
        except CredentialError as exc:
            return make_check("context", CheckStatus.FAILED, "jsonld_error", {"detail": exc.message[:200]})
        if notes:
            return make_check("context", CheckStatus.WARNING, "context_outdated", {"detail": "; ".join(notes)})
        return make_check("context", CheckStatus.PASSED, "context_ok")

    # -- type

    def check_type(self) -> Check:
        types = set(string_values(self.credential.get("type")))
        is_vc = "VerifiableCredential" in types
        if self.expect == "endorsement":
            if is_vc and "EndorsementCredential" in types:
                return make_check("type", CheckStatus.PASSED, "type_ok", {"kind": "endorsement"})
            return make_check("type", CheckStatus.FAILED, "type_endorsement_expected")
        if is_vc and LIST_CREDENTIAL_TYPE in types:
            return make_check("type", CheckStatus.PASSED, "type_ok", {"kind": "status list"})
        if self.expect == "status_list":
            return make_check("type", CheckStatus.FAILED, "type_invalid")
        if is_vc and types & _OB_TYPES:
            return make_check("type", CheckStatus.PASSED, "type_ok", {"kind": "Open Badge credential"})
        if is_vc and "EndorsementCredential" in types:
            return make_check("type", CheckStatus.PASSED, "type_ok", {"kind": "endorsement"})
        return make_check("type", CheckStatus.FAILED, "type_invalid")

    @property
    def is_endorsement(self) -> bool:
        return self.kind == "endorsement"

    @property
    def kind(self) -> str:
        """``status_list``, ``endorsement`` or ``ob`` (what the document says it is)."""
        types = string_values(self.credential.get("type"))
        if LIST_CREDENTIAL_TYPE in types:
            return "status_list"
        if "EndorsementCredential" in types:
            return "endorsement"
        return "ob"

    # -- structure

    def check_structure(self) -> Check:
        if self.kind == "status_list":
            return self._status_list_structure()
        problems = structure_problems(self.credential, endorsement=self.is_endorsement, vc_version=self.vc_version)
        if problems:
            detail = "; ".join(problems[:3]) + (" …" if len(problems) > 3 else "")
            return make_check("structure", CheckStatus.FAILED, "structure_invalid", {"detail": detail}, problems)
        return make_check("structure", CheckStatus.PASSED, "structure_ok")

    def _status_list_structure(self) -> Check:
        problems: list[str] = []
        credential = self.credential
        if not isinstance(credential.get("id"), str):
            problems.append("the status list has no id")
        if issuer_id_of(credential) is None:
            problems.append("the issuer is missing")
        subject = credential.get("credentialSubject")
        if not isinstance(subject, Mapping):
            problems.append("the credential has no single credentialSubject object")
        else:
            if "BitstringStatusList" not in string_values(subject.get("type")):
                problems.append("credentialSubject is not a BitstringStatusList")
            if not string_values(subject.get("statusPurpose")):
                problems.append("statusPurpose is missing")
            encoded = subject.get("encodedList")
            try:
                bits = decode_status_list(encoded if isinstance(encoded, str) else "")
            except StatusListError as exc:
                problems.append(f"encodedList: {exc.message}")
            else:
                if len(bits) * 8 < MIN_ENTRIES:
                    problems.append(f"the list has fewer than {MIN_ENTRIES} entries")
                    if len(problems) == 1:
                        # Its own code: a list that is merely too short is not a forgery, and the credential
                        # that points at it says so in those words.
                        return make_check("structure", CheckStatus.FAILED, "status_list_too_short", {}, problems)
        if problems:
            detail = "; ".join(problems[:3])
            return make_check("structure", CheckStatus.FAILED, "structure_invalid", {"detail": detail}, problems)
        return make_check("structure", CheckStatus.PASSED, "structure_ok")

    # -- schema

    def check_schema(self) -> Check:
        if self.kind == "status_list":
            return make_check("schema", CheckStatus.SKIPPED, "not_applicable")
        if self.vc_version != "2.0":
            return make_check("schema", CheckStatus.SKIPPED, "schema_not_applicable")
        credential = self.credential
        if self.is_jwt:
            credential = {key: value for key, value in credential.items() if key not in JWT_CLAIMS}
        try:
            path, endorsement = self.verifier.schema_path, self.is_endorsement
            result = self.verifier.pure(
                "schema", (credential, str(path), endorsement),
                lambda: validate_credential(credential, path=path, endorsement=endorsement))
        except SchemaUnavailable:
            return make_check("schema", CheckStatus.SKIPPED, "schema_unavailable")
        if result.outcome == "ok":
            return make_check("schema", CheckStatus.PASSED, "schema_ok")
        if result.outcome == "compacted":
            return make_check(
                "schema",
                CheckStatus.WARNING,
                "schema_compacted",
                {"detail": "for example a single proof or type not written as a list"},
            )
        detail = "; ".join(result.errors[:2])
        return make_check("schema", CheckStatus.FAILED, "schema_invalid", {"detail": detail}, result.errors)

    # -- proof

    def check_proof(self) -> Check:
        if self.is_jwt:
            return self._check_jwt_proof()
        return self._check_embedded_proof()

    def _check_embedded_proof(self) -> Check:
        try:
            proofs = document_proofs(self.credential)
        except CredentialError as exc:
            return make_check("proof", CheckStatus.FAILED, "proof_malformed", {"detail": exc.message[:200]})
        if not proofs:
            return make_check("proof", CheckStatus.FAILED, "proof_missing")
        notes: list[str] = []
        failures: list[tuple[int, str, str]] = []  # (priority, code, detail)
        valid: list[tuple[Mapping[str, Any], ResolvedKey]] = []
        refusals: list[tuple[str, dict[str, str]]] = []  # signatures that verify with a compromised key
        tried = 0
        for proof in proofs:
            proof_type = _text(proof.get("type"))
            suite = _text(proof.get("cryptosuite")) if proof_type == "DataIntegrityProof" else None
            if (proof_type, suite) not in VERIFYING_SUITES:
                notes.append(f"ignored a proof of type {proof_type!r}" + (f" ({suite!r})" if suite else ""))
                continue
            if tried >= MAX_PROOFS:
                notes.append("ignored further proofs")
                break
            tried += 1
            method = proof.get("verificationMethod")
            if not isinstance(method, str):
                failures.append((2, "proof_malformed", "a proof has no verification method"))
                continue
            try:
                key = self.verifier.resolver.resolve_verification_method(method)
            except ResolutionError as exc:
                code = _key_failure(exc)
                failures.append((0 if code == "key_not_listed" else 1, code, exc.message[:200]))
                continue
            if not isinstance(key.public_key, Ed25519PublicKey):
                failures.append((1, "key_unresolved", f"{method} is not an Ed25519 key"))
                continue
            try:
                raw_key = key.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
                self.verifier.pure("data_integrity", (self.credential, proof, raw_key),
                                   partial(verify_data_integrity_proof, self.credential, proof, key.public_key))
            except UndefinedTermError as exc:
                failures.append((0, "proof_undefined_terms", ", ".join(exc.terms[:5])))
                continue
            except CredentialError as exc:
                code = {
                    "invalid_signature": "proof_invalid",
                    "unsupported_cryptosuite": "proof_unsupported",
                    "key_format": "key_unresolved",
                }.get(exc.code, "proof_malformed")
                failures.append((0 if code == "proof_invalid" else 2, code, exc.message[:200]))
                continue
            refusal = _compromise_refusal(key, parse_timestamp(proof.get("created")))
            if refusal is not None:
                failures.append((0, refusal[0], f"{method}: compromised since {refusal[1]['date']}"))
                refusals.append(refusal)
                continue
            valid.append((proof, key))
        if valid:
            issuer = issuer_id_of(self.credential)
            proof, key = next(((p, k) for p, k in valid if k.controller == issuer), valid[0])
            self.key, self.proof_ok = key, True
            self.signed_at = parse_timestamp(proof.get("created"))
            suite_name = proof.get("cryptosuite") or proof.get("type")
            if key.revoked_at is not None:
                return _signed_before_compromise(key.revoked_at, parse_timestamp(proof.get("created")), notes)
            return make_check("proof", CheckStatus.PASSED, "proof_ok", {"method": suite_name}, notes)
        if refusals:
            code, params = refusals[0]
            details = [f for _, _, f in failures] + notes
            return make_check("proof", CheckStatus.FAILED, code, params, details)
        if not failures:
            detail = "; ".join(notes) if notes else "no supported proof"
            return make_check("proof", CheckStatus.FAILED, "proof_unsupported", {"detail": detail}, notes)
        failures.sort(key=lambda item: item[0])
        _, code, detail = failures[0]
        details = [f for _, _, f in failures] + notes
        return make_check("proof", CheckStatus.FAILED, code, {"detail": detail}, details)

    def _jwt_key(self, header: Mapping[str, Any]) -> ResolvedKey:
        kid, jwk = header.get("kid"), header.get("jwk")
        problem: ResolutionError | None = None
        if isinstance(kid, str):
            try:
                return self.verifier.resolver.resolve_jwt_key(kid)
            except ResolutionError as exc:
                if jwk is None or exc.code not in ("unsupported", "fetch_failed", "fetch_refused"):
                    raise
                problem = exc
        if isinstance(jwk, Mapping):
            try:
                key = public_key_from_jwk(jwk)
            except CredentialError as exc:
                raise ResolutionError("bad_key", f"the key in the token header is not valid: {exc.message}") from None
            method = kid if isinstance(kid, str) else "jwk"
            return ResolvedKey(key, method, None, "jwt_header")
        if problem is not None:
            raise problem
        raise ResolutionError("key_not_found", "the token names no key (neither kid nor jwk)")

    def _check_jwt_proof(self) -> Check:
        decoded = self.parsed.decoded
        token = self.parsed.token
        assert decoded is not None and token is not None
        header = decoded.header if isinstance(decoded.header, Mapping) else {}
        try:
            key = self._jwt_key(header)
        except ResolutionError as exc:
            return make_check("proof", CheckStatus.FAILED, _key_failure(exc), {"detail": exc.message[:200]})
        try:
            vc_jwt.verify_vc_jwt_signature(token, key.public_key)
        except CredentialError as exc:
            code = "proof_invalid" if exc.code == "invalid_signature" else "proof_malformed"
            return make_check("proof", CheckStatus.FAILED, code, {"detail": exc.message[:200]})
        refusal = _compromise_refusal(key, _jwt_signing_time(decoded.payload))
        if refusal is not None:
            return make_check("proof", CheckStatus.FAILED, refusal[0], refusal[1], [key.method_id])
        self.key, self.proof_ok = key, True
        self.signed_at = _jwt_signing_time(decoded.payload)
        errors, warnings = _claim_problems(decoded)
        method = header.get("alg") if isinstance(header.get("alg"), str) else "JWT"
        if errors:
            self.proof_ok = False
            return make_check(
                "proof", CheckStatus.FAILED, "jwt_claims_mismatch", {"detail": "; ".join(errors[:3])}, errors
            )
        if key.revoked_at is not None:
            return _signed_before_compromise(key.revoked_at, _jwt_signing_time(decoded.payload), warnings)
        if warnings:
            return make_check(
                "proof", CheckStatus.WARNING, "jwt_claims_incomplete", {"detail": "; ".join(warnings[:3])}, warnings
            )
        return make_check("proof", CheckStatus.PASSED, "proof_ok", {"method": method})

    # -- issuer key

    def check_issuer_key(self) -> Check:
        key = self.key
        if not self.proof_ok or key is None:
            return make_check("issuer_key", CheckStatus.SKIPPED, "issuer_key_not_checked")

        def compromised(listed: ResolvedKey) -> Check | None:
            refusal = _compromise_refusal(listed, self.signed_at)
            return None if refusal is None else make_check("issuer_key", CheckStatus.FAILED, *refusal)

        return bind_issuer_key(issuer_id_of(self.credential), key, self.verifier.fetch, compromised=compromised)

    # -- status

    def check_status(self) -> Check:
        if self.kind == "status_list":
            return make_check("status", CheckStatus.SKIPPED, "not_applicable")
        status = self.credential.get("credentialStatus")
        if status is None:
            self.report.revoked = False
            return make_check("status", CheckStatus.SKIPPED, "status_none")
        entries = status if isinstance(status, list) else [status]
        checks = [self._status_entry(entry) for entry in entries[:4]]
        for wanted in (CheckStatus.FAILED, CheckStatus.WARNING):
            found = next((check for check in checks if check.status is wanted), None)
            if found is not None:
                return found
        if self.report.revoked is None:
            self.report.revoked = False
        return checks[0] if checks else make_check("status", CheckStatus.SKIPPED, "status_none")

    def _status_entry(self, entry: object) -> Check:
        if not isinstance(entry, Mapping):
            return make_check("status", CheckStatus.FAILED, "status_entry_invalid")
        kind = entry.get("type")
        kinds = string_values(kind)
        if "BitstringStatusListEntry" in kinds:
            return self._bitstring(entry)
        if "1EdTechRevocationList" in kinds:
            return self._revocation_list(entry)
        return make_check("status", CheckStatus.WARNING, "status_type_unknown", {"detail": ", ".join(kinds) or "?"})

    def _bitstring(self, entry: Mapping[str, Any]) -> Check:
        purpose = entry.get("statusPurpose")
        url = entry.get("statusListCredential")
        if not isinstance(purpose, str) or not isinstance(url, str):
            return make_check("status", CheckStatus.FAILED, "status_entry_invalid")
        try:
            index = parse_status_list_index(entry.get("statusListIndex"))
        except StatusListError:
            return make_check("status", CheckStatus.FAILED, "status_index_invalid")
        size_value = entry.get("statusSize", 1)
        status_size = size_value if isinstance(size_value, int) and not isinstance(size_value, bool) else 0
        if not 1 <= status_size <= 8:
            return make_check("status", CheckStatus.FAILED, "status_entry_invalid")
        try:
            document = self.verifier.fetch(url)
        except ResolutionError as exc:
            return make_check("status", CheckStatus.WARNING, "status_unreachable", {"detail": exc.message[:200]})
        list_report = self._verify_status_list(document)
        if {check.code for check in list_report.failed} == {"status_list_too_short"}:
            return make_check("status", CheckStatus.FAILED, "status_list_too_short")
        if not list_report.verified:
            problems = [f"{c.id}: {c.message}" for c in list_report.failed] or ["its signature could not be checked"]
            return make_check("status", CheckStatus.FAILED, "status_list_unverified", {"detail": problems[0]}, problems)
        list_credential = list_report.credential or {}
        subject = list_credential.get("credentialSubject")
        if not isinstance(subject, Mapping) or not isinstance(subject.get("encodedList"), str):
            return make_check(
                "status", CheckStatus.FAILED, "status_list_invalid", {"detail": "it holds no encoded list"}
            )
        if purpose not in string_values(subject.get("statusPurpose")):
            return make_check("status", CheckStatus.FAILED, "status_purpose_mismatch")
        try:
            bits = decode_status_list(subject["encodedList"])
        except StatusListError as exc:
            return make_check("status", CheckStatus.FAILED, "status_list_invalid", {"detail": exc.message[:200]})
        if len(bits) * 8 // status_size < MIN_ENTRIES:
            return make_check("status", CheckStatus.FAILED, "status_list_too_short")
        try:
            value = get_status(bits, index, status_size)
        except StatusListError:
            return make_check("status", CheckStatus.FAILED, "status_index_invalid")
        if value and purpose == "revocation":
            self.report.revoked = True
            return make_check("status", CheckStatus.FAILED, "revoked")
        if value and purpose == "suspension":
            self.report.suspended = True
            return make_check("status", CheckStatus.FAILED, "suspended")
        if purpose == "revocation":
            self.report.revoked = False
        if purpose == "suspension":
            self.report.suspended = False
        if issuer_id_of(list_credential) != issuer_id_of(self.credential):
            return make_check("status", CheckStatus.WARNING, "status_list_foreign")
        list_until = parse_timestamp(list_credential.get("validUntil"))
        if list_until is not None and list_until < self.verifier.now:
            return make_check("status", CheckStatus.WARNING, "status_list_expired")
        return make_check("status", CheckStatus.PASSED, "status_ok")

    def _verify_status_list(self, document: object) -> VerificationReport:
        """Run the whole pipeline on a status list credential (its proof, key and dates must hold)."""
        try:
            parsed = self.verifier.parse(document if isinstance(document, str | dict) else b"")
        except ParseFailure as failure:
            return _unreadable(failure.code, None)
        parse_check = make_check("parse", CheckStatus.PASSED, parsed.parse_code)
        return _Run(self.verifier, parsed, None, self.depth + 1, "status_list").execute(parse_check)

    def check_plain_context(self) -> Check:
        """Context check for non-OB credentials (status lists): VC context first, safe mode."""
        context = self.credential.get("@context")
        contexts = context if isinstance(context, list) else [context]
        if not contexts or contexts[0] not in (VC_V2_CONTEXT, VC_V1_CONTEXT):
            return make_check("context", CheckStatus.FAILED, "context_not_vc")
        self.vc_version = "2.0" if contexts[0] == VC_V2_CONTEXT else "1.1"
        try:
            self.verifier.pure("safe_mode", (self.credential,), lambda: check_safe_mode(self.credential))
        except UndefinedTermError as exc:
            return make_check("context", CheckStatus.FAILED, "undefined_terms", {"detail": ", ".join(exc.terms[:5])})
        except CredentialError as exc:
            return make_check("context", CheckStatus.FAILED, "jsonld_error", {"detail": exc.message[:200]})
        return make_check("context", CheckStatus.PASSED, "context_ok")

    def _revocation_list(self, entry: Mapping[str, Any]) -> Check:
        url = entry.get("id")
        if not isinstance(url, str):
            return make_check("status", CheckStatus.FAILED, "status_entry_invalid")
        try:
            document = self.verifier.fetch(url)
        except ResolutionError as exc:
            return make_check("status", CheckStatus.WARNING, "status_unreachable", {"detail": exc.message[:200]})
        if not isinstance(document, Mapping):
            return make_check(
                "status", CheckStatus.WARNING, "status_list_invalid", {"detail": "the list is not a JSON object"}
            )
        # VCRL-10: the draft says revokedCredentials, 1EdTech's validator reads revokedCredential.
        items: list[object] = []
        for name in ("revokedCredential", "revokedCredentials"):
            value = document.get(name)
            if isinstance(value, list):
                items.extend(value)
        credential_id = self.credential.get("id")
        for item in items:
            item_id = item if isinstance(item, str) else item.get("id") if isinstance(item, Mapping) else None
            if item_id is None or item_id != credential_id:
                continue
            if isinstance(item, Mapping) and item.get("revoked") is False:
                continue
            self.report.revoked = True
            reason = item.get("revocationReason") if isinstance(item, Mapping) else None
            return make_check("status", CheckStatus.FAILED, "revoked", {}, [reason] if isinstance(reason, str) else [])
        self.report.revoked = False
        return make_check("status", CheckStatus.PASSED, "status_ok")

    # -- validity

    def check_validity(self) -> Check:
        start_text, end_text = self._dates()
        start = parse_timestamp(start_text)
        end = parse_timestamp(end_text) if end_text is not None else None
        if start is None or (end_text is not None and end is None):
            return make_check("validity", CheckStatus.FAILED, "validity_unknown")
        decoded = self.parsed.decoded
        if decoded is not None and isinstance(decoded.payload, Mapping):
            # JWT: nbf and exp bound the validity too (a JWT exp "sets validUntil", spec §jwt-verify).
            nbf, exp = decoded.payload.get("nbf"), decoded.payload.get("exp")
            if isinstance(nbf, int | float) and not isinstance(nbf, bool):
                start = max(start, _from_epoch(nbf, start))
            if isinstance(exp, int | float) and not isinstance(exp, bool):
                claimed = _from_epoch(exp, end)
                end = claimed if end is None or claimed < end else end
        now = self.verifier.now
        if now < start:
            self.report.not_yet_valid = True
            self.report.expired = False
            return make_check("validity", CheckStatus.FAILED, "not_yet_valid", {"date": _show(start)})
        self.report.not_yet_valid = False
        if end is not None and now >= end:
            self.report.expired = True
            return make_check("validity", CheckStatus.FAILED, "expired", {"date": _show(end)})
        self.report.expired = False
        return make_check("validity", CheckStatus.PASSED, "validity_ok")

    # -- recipient

    def check_recipient(self) -> Check:
        if self.kind != "ob":
            return make_check("recipient", CheckStatus.SKIPPED, "not_applicable")
        known = self.known_recipient
        if known is None or not known.strip():
            return make_check("recipient", CheckStatus.SKIPPED, "recipient_not_requested")
        subject = self.credential.get("credentialSubject")
        if not isinstance(subject, Mapping):
            return make_check("recipient", CheckStatus.WARNING, "recipient_unknown_form")
        if subject.get("id") in (known.strip(), f"mailto:{normalize_email(known)}"):
            return make_check("recipient", CheckStatus.PASSED, "recipient_match")
        emails = email_identifiers(subject)
        if not emails:
            return make_check("recipient", CheckStatus.WARNING, "recipient_unknown_form")
        if any(email_matches(identifier, known) for identifier in emails):
            return make_check("recipient", CheckStatus.PASSED, "recipient_match")
        return make_check("recipient", CheckStatus.FAILED, "recipient_mismatch")

    # -- endorsements

    def check_endorsements(self) -> Check:
        if self.kind == "status_list":
            return make_check("endorsements", CheckStatus.SKIPPED, "not_applicable")
        embedded, jwts = collect_endorsements(self.credential)
        total = len(embedded) + len(jwts)
        if total == 0:
            return make_check("endorsements", CheckStatus.SKIPPED, "no_endorsements")
        if self.depth >= MAX_ENDORSEMENT_DEPTH:
            return make_check("endorsements", CheckStatus.WARNING, "endorsements_too_deep")
        reports: list[VerificationReport] = []
        for endorsement in embedded[:MAX_ENDORSEMENTS]:
            parsed = Parsed("json", endorsement, parse_code="parsed_json")
            reports.append(self._endorsement(parsed))
        for token in jwts[: max(0, MAX_ENDORSEMENTS - len(embedded))]:
            try:
                jwt_parsed = self.verifier.parse(token)
            except ParseFailure as failure:
                reports.append(_unreadable(failure.code, "jwt"))
                continue
            reports.append(self._endorsement(jwt_parsed))
        self.report.endorsements = reports
        failed = sum(1 for report in reports if not report.verified)
        details = [
            f"{report.credential_id or '?'}: "
            + ("verified" if report.verified else ", ".join(c.code for c in report.failed) or "not verified")
            for report in reports
        ]
        if failed or len(reports) < total:
            return make_check(
                "endorsements",
                CheckStatus.WARNING,
                "endorsements_unverified",
                {"failed": failed + total - len(reports), "count": total},
                details,
            )
        return make_check("endorsements", CheckStatus.PASSED, "endorsements_ok", {"count": total}, details)

    def _endorsement(self, parsed: Parsed) -> VerificationReport:
        parse_check = make_check("parse", CheckStatus.PASSED, parsed.parse_code)
        return self.verifier.verify_credential(parsed, parse_check, None, depth=self.depth + 1, expect="endorsement")


def _jwt_signing_time(payload: object) -> datetime | None:
    """When a VC-JWT says it was signed: ``iat`` if present, else ``nbf`` (BadgeHub writes ``nbf`` =
    ``validFrom``, the issuing moment); None when neither is a NumericDate."""
    if not isinstance(payload, Mapping):
        return None
    for claim in ("iat", "nbf"):
        value = payload.get(claim)
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                return datetime.fromtimestamp(value, UTC)
            except (OverflowError, OSError, ValueError):
                return None
    return None


def _key_failure(error: ResolutionError) -> str:
    """The ``proof`` code of a key that could not be resolved: ``key_unreachable`` when its document could not
    be fetched (not verified now, worth trying again), ``key_not_listed`` when the document that should list
    it does not (for issuing credentials), ``key_unresolved`` otherwise."""
    if error.code in RETRYABLE_RESOLUTION:
        return "key_unreachable"
    if error.code in ("key_not_found", "not_authorized"):
        return "key_not_listed"
    return "key_unresolved"


def _compromise_refusal(key: ResolvedKey, signed_at: datetime | None) -> tuple[str, dict[str, str]] | None:
    """The compromised-key rule: a signature by a key revoked from ``revoked_at`` is refused when it is
    dated at or after that moment, or carries no date (nothing shows it was made before). Its date is the
    Data Integrity ``proof.created``, or the JWT ``iat`` (else ``nbf``). Returns ``(code, params)`` of
    the failure (``date``: the compromise, ``detail``: the signature), or None when the rule does not
    refuse it."""
    if key.revoked_at is None:
        return None
    if signed_at is None:
        return "key_compromised_undated", {"date": _show(key.revoked_at)}
    if signed_at >= key.revoked_at:
        return "key_compromised", {"date": _show(key.revoked_at), "detail": _show(signed_at)}
    return None


def _signed_before_compromise(revoked_at: datetime, signed_at: datetime | None, notes: list[str]) -> Check:
    # A valid signature dated before the compromise: accepted, with a warning, since whoever holds the key
    # could also have dated a new signature in the past.
    # ``detail`` is the signature's date (the report's generic parameter slot), ``date`` the compromise's.
    params = {"date": _show(revoked_at), "detail": _show(signed_at) if signed_at is not None else None}
    return make_check("proof", CheckStatus.WARNING, "signed_before_compromise", params, notes)


def _from_epoch(value: float, fallback: datetime | None) -> datetime:
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return fallback if fallback is not None else datetime.max.replace(tzinfo=UTC)


def _show(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _claim_problems(decoded: vc_jwt.DecodedJwt) -> tuple[list[str], list[str]]:
    """Errors and warnings of :func:`badgehub.credentials.vc_jwt.check_jwt_claims`; its documented policy
    decides what is only a warning (a missing ``sub`` while the subject has an id)."""
    errors: list[str] = []
    warnings: list[str] = []
    try:
        problems = vc_jwt.check_jwt_claims(decoded)
    except CredentialError as exc:
        return [exc.message], []
    for problem in problems:
        if problem.severity == "warning":
            # Plain words for the page; CE1's stable code stays available in the details.
            warnings.append("no 'sub' claim" if problem.code == "jwt_sub_missing" else problem.message)
        else:
            errors.append(problem.message)
    return errors, warnings


def collect_endorsements(credential: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """Embedded ``endorsement`` objects and ``endorsementJwt`` strings anywhere in the credential,
    except inside proofs and inside the endorsements themselves (those are checked recursively)."""
    embedded: list[dict[str, Any]] = []
    jwts: list[str] = []
    stack: list[object] = [credential]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
            continue
        if not isinstance(node, Mapping):
            continue
        for key, value in node.items():
            if key == "proof":
                continue
            if key == "endorsement":
                items = value if isinstance(value, list) else [value]
                embedded.extend(item for item in items if isinstance(item, dict))
            elif key == "endorsementJwt":
                jwts.extend(string_values(value))
            else:
                stack.append(value)
    return embedded, jwts


def structure_problems(credential: Mapping[str, Any], *, endorsement: bool, vc_version: str | None) -> list[str]:
    """Required fields, enumerations and the IdentityObject form (OB3-BRIEF §2), as readable lines."""
    problems: list[str] = []
    if not isinstance(credential.get("id"), str) or not credential["id"].strip():
        problems.append("the credential has no id")
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        if not isinstance(issuer.get("id"), str):
            problems.append("the issuer has no id")
        if "Profile" not in string_values(issuer.get("type")):
            problems.append("the issuer is not a Profile")
    elif not isinstance(issuer, str):
        problems.append("the issuer is missing")
    start_name = "issuanceDate" if vc_version == "1.1" else "validFrom"
    end_name = "expirationDate" if vc_version == "1.1" else "validUntil"
    if parse_timestamp(credential.get(start_name)) is None:
        problems.append(f"{start_name} is missing or not a date")
    for name in (end_name, "awardedDate"):
        if name in credential and parse_timestamp(credential.get(name)) is None:
            problems.append(f"{name} is not a date")
    subject = credential.get("credentialSubject")
    if not isinstance(subject, Mapping):
        problems.append("the credential has no single credentialSubject object")
        return problems
    if endorsement:
        if not isinstance(credential.get("name"), str):
            problems.append("an endorsement needs a name")
        if not isinstance(subject.get("id"), str):
            problems.append("the endorsement does not say what it endorses (credentialSubject.id)")
        if "EndorsementSubject" not in string_values(subject.get("type")):
            problems.append("credentialSubject is not an EndorsementSubject")
        return problems
    if "AchievementSubject" not in string_values(subject.get("type")):
        problems.append("credentialSubject is not an AchievementSubject")
    identifiers = subject.get("identifier")
    has_identifier = isinstance(identifiers, list) and len(identifiers) > 0
    if not isinstance(subject.get("id"), str) and not has_identifier:
        problems.append("the recipient is identified neither by an id nor by an identifier")
    if identifiers is not None and not isinstance(identifiers, list):
        problems.append("credentialSubject.identifier must be a list")
    for index, item in enumerate(identifiers if isinstance(identifiers, list) else []):
        problems.extend(_identity_object_problems(item, f"identifier[{index}]"))
    achievement = subject.get("achievement")
    if not isinstance(achievement, Mapping):
        problems.append("the achievement is missing")
    else:
        problems.extend(_achievement_problems(achievement))
    results = subject.get("result")
    for index, result in enumerate(results if isinstance(results, list) else []):
        if isinstance(result, Mapping) and "status" in result and result["status"] not in RESULT_STATUSES:
            problems.append(f"result[{index}].status {result['status']!r} is not an allowed value")
    return problems


def _identity_object_problems(item: object, where: str) -> list[str]:
    if not isinstance(item, Mapping):
        return [f"{where} is not an object"]
    problems = []
    if item.get("type") != "IdentityObject":
        problems.append(f'{where}.type must be "IdentityObject"')
    hashed = item.get("hashed")
    if not isinstance(hashed, bool):
        problems.append(f"{where}.hashed must be true or false")
    value = item.get("identityHash")
    if not isinstance(value, str) or not value:
        problems.append(f"{where}.identityHash is missing")
    elif hashed is True:
        parsed = parse_identity_hash(value)
        if parsed is None or len(parsed[1]) != (64 if parsed[0] == "sha256" else 32):
            problems.append(f"{where}.identityHash is not a sha256$… or md5$… hash")
    if not is_enum_value(item.get("identityType"), IDENTIFIER_TYPES):
        problems.append(f"{where}.identityType {item.get('identityType')!r} is not an allowed value")
    if "salt" in item and not isinstance(item["salt"], str):
        problems.append(f"{where}.salt must be text")
    return problems


def _achievement_problems(achievement: Mapping[str, Any]) -> list[str]:
    problems = []
    for name in ("id", "name", "description"):
        if not isinstance(achievement.get(name), str):
            problems.append(f"achievement.{name} is missing")
    if "Achievement" not in string_values(achievement.get("type")):
        problems.append("the achievement is not of type Achievement")
    if not isinstance(achievement.get("criteria"), Mapping):
        problems.append("achievement.criteria is missing")
    if "achievementType" in achievement and not is_enum_value(achievement["achievementType"], ACHIEVEMENT_TYPES):
        problems.append(f"achievementType {achievement['achievementType']!r} is not an allowed value")
    alignments = achievement.get("alignment")
    for index, alignment in enumerate(alignments if isinstance(alignments, list) else []):
        if not isinstance(alignment, Mapping):
            problems.append(f"alignment[{index}] is not an object")
            continue
        for name in ("targetName", "targetUrl"):
            if not isinstance(alignment.get(name), str):
                problems.append(f"alignment[{index}].{name} is missing")
        if "targetType" in alignment and not is_enum_value(alignment["targetType"], ALIGNMENT_TARGET_TYPES):
            problems.append(f"alignment[{index}].targetType {alignment['targetType']!r} is not an allowed value")
    return problems
