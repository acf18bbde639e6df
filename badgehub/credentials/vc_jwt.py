"""VC-JWT: compact JWS over an Open Badges 3.0 credential (OB 3.0 §8.2 "JSON Web Token Proof Format").

Signing (:func:`sign_vc_jwt`): the JOSE header is exactly ``{"alg", "kid"}``; for a VC DM 2.0
credential the payload IS the credential plus the claims ``iss`` (= ``issuer.id``), ``jti`` (=
``id``), ``nbf`` (= ``validFrom``), ``exp`` (= ``validUntil``, when present) and ``sub`` (=
``credentialSubject.id``, when present); a VC DM 1.1 credential goes into the ``vc`` claim with
``issuanceDate``/``expirationDate`` as ``nbf``/``exp``.  Algorithms: RS256 (what conformance
requires), ES256 (P-256) and EdDSA (Ed25519), through PyJWT.

Verification is split: :func:`decode_vc_jwt` parses without trusting anything,
:func:`verify_vc_jwt_signature` checks the signature with a key or JWK the caller resolved (from
``kid``, or the header ``jwk``), and :func:`check_jwt_claims` compares the claims with the credential.

Policy for a missing ``sub`` (decided here, tested in ``test_vc_jwt.py``):

* ``sub`` present and different from ``credentialSubject.id``, or present while the subject has no
  ``id``: **error** (``jwt_sub_mismatch``) — the token names someone the credential does not.
* ``sub`` absent and the subject has no ``id`` (a subject identified only by ``identifier``):
  nothing to compare, **no problem**.
* ``sub`` absent while ``credentialSubject.id`` exists: **warning** (``jwt_sub_missing``), not an
  error.  The specification says ``sub`` MUST be there, but the subject id is inside the signed
  payload anyway, so nothing is left unprotected; 1EdTech's own signed fixtures (and tokens issued
  by tools modelled on them) omit ``sub`` and put the subject in ``aud``, and the 1EdTech
  validator accepts them.  Failing them would reject conformant-in-practice badges for no
  security gain.  BadgeHub itself always writes ``sub``.

Every other mismatch (``iss``, ``jti``, ``nbf``, ``exp``, the ``vc`` claim versus ``@context[0]``) is an
error, as the specification says.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt import api_jws
from jwt.algorithms import get_default_algorithms
from jwt.exceptions import PyJWTError

from badgehub.credentials.contexts import VC_V1_CONTEXT, VC_V2_CONTEXT
from badgehub.credentials.errors import InvalidSignature, JwtError, KeyFormatError
from badgehub.credentials.keys import PrivateKey, PublicKey, public_key_from_jwk

#: The algorithms we sign and verify with; anything else (``none``, HS*, PS*, ES384 …) is refused.
SUPPORTED_ALGORITHMS = ("RS256", "ES256", "EdDSA")
#: Registered JWT claims that are not part of a VC DM 2.0 credential.
JWT_CLAIMS = ("iss", "sub", "aud", "exp", "nbf", "iat", "jti")
#: Header parameters a verifier understands; a token with ``crit`` or anything unexpected is refused.
_ALLOWED_HEADER_MEMBERS = frozenset({"alg", "kid", "jwk", "typ", "cty"})
_ACCEPTED_TYP = frozenset({"JWT", "vc+jwt", "vc-ld+jwt", "vc+ld+jwt", "application/vc+jwt"})
_MAX_TOKEN_LENGTH = 1_000_000
_B64U_RE = re.compile(r"^[A-Za-z0-9_-]*$")

_ALGORITHMS = get_default_algorithms()


@dataclass(frozen=True)
class DecodedJwt:
    """A parsed (not yet verified) VC-JWT.

    ``credential`` is the ``vc`` claim for VC DM 1.1 (``vc_version == "1.1"``), otherwise the
    payload without the registered JWT claims (``vc_version == "2.0"``).
    """

    header: dict[str, Any]
    payload: dict[str, Any]
    credential: dict[str, Any]
    signing_input: bytes
    signature: bytes
    vc_version: Literal["1.1", "2.0"]


@dataclass(frozen=True)
class ClaimProblem:
    """One disagreement between the JWT claims and the credential (``severity`` error or warning)."""

    claim: str
    code: str
    message: str
    severity: Literal["error", "warning"] = field(default="error")


def _b64u_decode(segment: str, what: str) -> bytes:
    if not _B64U_RE.match(segment) or len(segment) % 4 == 1:
        raise JwtError(f"JWT {what} is not unpadded base64url")
    try:
        return base64.b64decode(segment + "=" * (-len(segment) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise JwtError(f"JWT {what} is not base64url") from None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise JwtError(f"duplicate JSON member {key!r}")
        result[key] = value
    return result


def _refuse_constant(name: str) -> Any:
    raise JwtError(f"JSON constant {name} is not allowed")


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)
    except JwtError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise JwtError(f"JWT {what} is not UTF-8 JSON") from None
    if not isinstance(value, dict):
        raise JwtError(f"JWT {what} must be a JSON object")
    return value


def _numeric_date(value: Any, what: str) -> int:
    """XML Schema dateTime (with time zone) → NumericDate (whole seconds, fractions dropped)."""
    if not isinstance(value, str):
        raise JwtError(f"{what} must be a date-time string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise JwtError(f"{what} {value!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise JwtError(f"{what} {value!r} has no time zone")
    return int(moment.timestamp() // 1)


def _subject_id(credential: Mapping[str, Any]) -> str | None:
    subject = credential.get("credentialSubject")
    if isinstance(subject, list) and len(subject) == 1:
        subject = subject[0]
    if isinstance(subject, Mapping) and isinstance(subject.get("id"), str):
        return str(subject["id"])
    return None


def _issuer_id(credential: Mapping[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    if isinstance(issuer, str):
        return issuer
    if isinstance(issuer, Mapping) and isinstance(issuer.get("id"), str):
        return str(issuer["id"])
    return None


def _first_context(credential: Mapping[str, Any]) -> Any:
    context = credential.get("@context")
    return context[0] if isinstance(context, list) and context else context


def _check_key(alg: str, key: object) -> None:
    ok = (
        (alg == "RS256" and isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey))
        or (
            alg == "ES256"
            and isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey)
            and isinstance(key.curve, ec.SECP256R1)
        )
        or (alg == "EdDSA" and isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey))
    )
    if not ok:
        raise KeyFormatError(f"a {type(key).__name__} cannot be used with alg {alg}")


def sign_vc_jwt(credential: Mapping[str, Any], private_key: PrivateKey, kid: str, alg: str = "RS256") -> str:
    """Return the compact JWS (VC-JWT) of ``credential``, signed with ``alg`` (RS256, ES256 or EdDSA).

    The header is exactly ``{"alg": alg, "kid": kid}``.  Claims are derived from the credential
    (see the module docstring); a credential that already carries one of them with another value is
    refused.  Raises :class:`JwtError` for an unsupported ``alg``, a missing ``issuer.id``, ``id`` or
    ``validFrom``/``issuanceDate``, bad dates or conflicting claims, and :class:`KeyFormatError` when
    the key does not fit ``alg``.
    """
    if alg not in SUPPORTED_ALGORITHMS:
        raise JwtError(f"unsupported JWT alg {alg!r}", code="jwt_unsupported_alg")
    _check_key(alg, private_key)
    if not isinstance(kid, str) or not kid:
        raise JwtError("kid must be a non-empty string")
    if not isinstance(credential, Mapping):
        raise JwtError("the credential must be a JSON object")
    vc1 = _first_context(credential) == VC_V1_CONTEXT
    issuer_id = _issuer_id(credential)
    if issuer_id is None:
        raise JwtError("the credential has no issuer id (iss)")
    credential_id = credential.get("id")
    if not isinstance(credential_id, str):
        raise JwtError("the credential has no id (jti)")
    claims: dict[str, Any] = {
        "iss": issuer_id,
        "jti": credential_id,
        "nbf": _numeric_date(credential.get("issuanceDate" if vc1 else "validFrom"), "validFrom"),
    }
    until = credential.get("expirationDate" if vc1 else "validUntil")
    if until is not None:
        claims["exp"] = _numeric_date(until, "validUntil")
    subject_id = _subject_id(credential)
    if subject_id is not None:
        claims["sub"] = subject_id
    if vc1:
        payload: dict[str, Any] = {"vc": dict(credential), **claims}
    else:
        payload = dict(credential)
        for name, value in claims.items():
            if name in payload and payload[name] != value:
                raise JwtError(f"the credential's own {name!r} conflicts with the derived claim")
            payload[name] = value
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    try:
        return api_jws.PyJWS().encode(body, private_key, algorithm=alg, headers={"typ": None, "kid": kid})
    except (PyJWTError, ValueError, TypeError) as exc:
        raise JwtError(f"signing failed: {exc}") from None


def decode_vc_jwt(token: str) -> DecodedJwt:
    """Parse a compact VC-JWT without verifying it.

    Raises :class:`JwtError` for anything but three base64url segments holding a JSON object
    header (with a string ``alg``) and a JSON object payload (duplicate members and NaN refused),
    a ``vc`` claim that is not an object, or a token over 1 MB.
    """
    if not isinstance(token, str):
        raise JwtError("a JWT must be a string")
    token = token.strip()
    if len(token) > _MAX_TOKEN_LENGTH:
        raise JwtError("JWT too large")
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise JwtError("a compact JWS has three dot-separated parts")
    header = _json_object(_b64u_decode(parts[0], "header"), "header")
    payload = _json_object(_b64u_decode(parts[1], "payload"), "payload")
    signature = _b64u_decode(parts[2], "signature")
    if not isinstance(header.get("alg"), str):
        raise JwtError("JWT header has no alg")
    if "vc" in payload:
        vc = payload["vc"]
        if not isinstance(vc, dict):
            raise JwtError("the vc claim must be a JSON object")
        credential, version = vc, "1.1"
    else:
        credential = {key: value for key, value in payload.items() if key not in JWT_CLAIMS}
        version = "2.0"
    return DecodedJwt(
        header=header,
        payload=payload,
        credential=credential,
        signing_input=(parts[0] + "." + parts[1]).encode("ascii"),
        signature=signature,
        vc_version="1.1" if version == "1.1" else "2.0",
    )


def verify_vc_jwt_signature(token: str, public_key_or_jwk: PublicKey | Mapping[str, Any]) -> None:
    """Verify the JWS signature of a VC-JWT with a public key or a public JWK.

    Returns ``None`` when it verifies.  Raises :class:`JwtError` for a malformed token, ``alg``
    ``none`` or any algorithm outside RS256/ES256/EdDSA (``jwt_unsupported_alg``), ``crit`` or unknown
    header members, an unexpected ``typ``, a header ``jwk`` with private members, or a JWK whose
    ``alg`` disagrees with the header; :class:`KeyFormatError` when the key does not fit the
    algorithm; :class:`InvalidSignature` when the signature does not verify.
    """
    decoded = decode_vc_jwt(token)
    header = decoded.header
    alg = header["alg"]
    if alg not in SUPPORTED_ALGORITHMS:
        raise JwtError(f"JWT alg {alg!r} is not accepted", code="jwt_unsupported_alg")
    unknown = sorted(set(header) - _ALLOWED_HEADER_MEMBERS)
    if unknown:
        raise JwtError(f"JWT header members not accepted: {unknown}", code="jwt_header_not_allowed")
    if "typ" in header and header["typ"] not in _ACCEPTED_TYP:
        raise JwtError(f"JWT typ {header['typ']!r} is not accepted", code="jwt_header_not_allowed")
    if "kid" in header and not isinstance(header["kid"], str):
        raise JwtError("JWT kid must be a string")
    if "jwk" in header:
        if not isinstance(header["jwk"], Mapping):
            raise JwtError("JWT header jwk must be an object")
        public_key_from_jwk(header["jwk"])  # refuses private members before anything else happens
    if isinstance(public_key_or_jwk, Mapping):
        jwk_alg = public_key_or_jwk.get("alg")
        if jwk_alg is not None and jwk_alg != alg:
            raise JwtError(f"the JWK is for {jwk_alg!r}, the token uses {alg!r}", code="jwt_alg_key_mismatch")
        key: PublicKey = public_key_from_jwk(public_key_or_jwk)
    else:
        key = public_key_or_jwk
    _check_key(alg, key)
    try:
        valid = _ALGORITHMS[alg].verify(decoded.signing_input, key, decoded.signature)
    except (PyJWTError, ValueError, TypeError):
        valid = False
    if not valid:
        raise InvalidSignature("the JWT signature does not verify with this key")


def check_jwt_claims(decoded: DecodedJwt) -> list[ClaimProblem]:
    """Compare the JWT claims with the credential they carry (OB 3.0 §8.2.4.2 "Verify a Credential").

    Returns the problems found (empty when everything agrees): ``iss`` = ``issuer.id``, ``jti`` =
    ``id``, ``nbf`` = ``validFrom`` (``issuanceDate`` in VC 1.1), ``exp`` = ``validUntil``
    (``expirationDate``), ``sub`` = ``credentialSubject.id`` under the policy in the module
    docstring, the claims are NumericDates, and the ``vc`` claim is used exactly when
    ``@context[0]`` is the VC 1.1 context.  Never raises for a well-formed :class:`DecodedJwt`.
    """
    payload, credential = decoded.payload, decoded.credential
    vc1 = decoded.vc_version == "1.1"
    problems: list[ClaimProblem] = []

    def problem(claim: str, code: str, message: str, severity: Literal["error", "warning"] = "error") -> None:
        problems.append(ClaimProblem(claim, code, message, severity))

    first = _first_context(credential)
    if vc1 and first != VC_V1_CONTEXT:
        problem("vc", "jwt_vc_claim_context_mismatch", "a vc claim holds a credential whose @context[0] is not VC 1.1")
    if not vc1 and first != VC_V2_CONTEXT:
        problem(
            "vc", "jwt_vc_claim_context_mismatch", "a VC DM 2.0 payload must start @context with the VC 2.0 context"
        )

    issuer_id = _issuer_id(credential)
    if "iss" not in payload:
        problem("iss", "jwt_iss_missing", "the iss claim is missing")
    elif payload["iss"] != issuer_id:
        problem("iss", "jwt_iss_mismatch", f"iss {payload['iss']!r} differs from issuer.id {issuer_id!r}")

    credential_id = credential.get("id")
    if "jti" not in payload:
        if credential_id is not None:
            problem("jti", "jwt_jti_missing", "the jti claim is missing")
    elif payload["jti"] != credential_id:
        problem("jti", "jwt_jti_mismatch", f"jti {payload['jti']!r} differs from the credential id {credential_id!r}")

    for claim, member in (
        ("nbf", "issuanceDate" if vc1 else "validFrom"),
        ("exp", "expirationDate" if vc1 else "validUntil"),
    ):
        value = payload.get(claim)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            problem(claim, "jwt_claim_type", f"{claim} must be a NumericDate")
            continue
        if member not in credential:
            if claim == "nbf":
                problem(claim, "jwt_nbf_unverifiable", f"the credential has no {member}")
            elif value is not None:
                problem(
                    claim, "jwt_exp_without_valid_until", f"exp is set but the credential has no {member}", "warning"
                )
            continue
        try:
            expected = _numeric_date(credential[member], member)
        except JwtError as exc:
            problem(claim, "credential_date_invalid", exc.message)
            continue
        if value is None:
            problem(claim, f"jwt_{claim}_missing", f"the {claim} claim is missing ({member} is {credential[member]!r})")
        elif int(value // 1) != expected:
            problem(claim, f"jwt_{claim}_mismatch", f"{claim} {value} differs from {member} {credential[member]!r}")

    if "iat" in payload and (isinstance(payload["iat"], bool) or not isinstance(payload["iat"], int | float)):
        problem("iat", "jwt_claim_type", "iat must be a NumericDate")

    subject_id = _subject_id(credential)
    if "sub" in payload:
        if payload["sub"] != subject_id:
            problem(
                "sub", "jwt_sub_mismatch", f"sub {payload['sub']!r} differs from credentialSubject.id {subject_id!r}"
            )
    elif subject_id is not None:
        problem(
            "sub",
            "jwt_sub_missing",
            "the sub claim is missing; credentialSubject.id is covered by the signature (accepted with a warning)",
            "warning",
        )
    return problems


def jwk_thumbprint_input(jwk: Mapping[str, Any]) -> bytes:
    """Return the RFC 7638 thumbprint input (required members only, sorted, no whitespace) of a
    public JWK; hash it with SHA-256 for a ``kid``.  Raises :class:`KeyFormatError` for an invalid
    or private JWK."""
    public_key_from_jwk(jwk)
    required = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}[str(jwk["kty"])]
    return json.dumps({name: jwk[name] for name in required}, separators=(",", ":"), sort_keys=True).encode("utf-8")


__all__ = [
    "SUPPORTED_ALGORITHMS",
    "ClaimProblem",
    "DecodedJwt",
    "check_jwt_claims",
    "decode_vc_jwt",
    "jwk_thumbprint_input",
    "sign_vc_jwt",
    "verify_vc_jwt_signature",
]
