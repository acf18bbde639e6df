"""VC-JWT: signing (RS256/ES256/EdDSA, exact header, derived claims), decoding, signature checks,
claim checks and the documented policy for a missing ``sub``."""

from __future__ import annotations

import base64
import contextlib
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from badgehub.credentials.errors import CredentialError, InvalidSignature, JwtError, KeyFormatError
from badgehub.credentials.keys import generate_ed25519, generate_p256, generate_rsa, public_jwk
from badgehub.credentials.vc_jwt import (
    check_jwt_claims,
    decode_vc_jwt,
    jwk_thumbprint_input,
    sign_vc_jwt,
    verify_vc_jwt_signature,
)

V2 = "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
KID = "https://issuer.example/keys/1"


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_json(value: Any) -> str:
    return b64u(json.dumps(value, separators=(",", ":")).encode())


def _credential(**extra: Any) -> dict[str, Any]:
    credential: dict[str, Any] = {
        "@context": [V2, OB],
        "id": "urn:uuid:3c1f4a8e-0000-4000-8000-000000000003",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "https://issuer.example/", "type": ["Profile"], "name": "Issuer"},
        "validFrom": "2026-01-01T00:00:00Z",
        "name": "Badge",
        "credentialSubject": {
            "id": "did:example:learner",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://issuer.example/a/1",
                "type": ["Achievement"],
                "name": "A",
                "criteria": {"narrative": "n"},
            },
        },
    }
    credential.update(extra)
    return credential


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return generate_rsa()


@pytest.fixture(scope="module")
def p256_key() -> ec.EllipticCurvePrivateKey:
    return generate_p256()


@pytest.fixture(scope="module")
def keys_by_alg(rsa_key: rsa.RSAPrivateKey, p256_key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    return {"RS256": rsa_key, "ES256": p256_key, "EdDSA": generate_ed25519()}


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_signed_token_has_exactly_alg_and_kid_and_verifies_with_key_and_jwk(
    alg: str, keys_by_alg: dict[str, Any]
) -> None:
    key = keys_by_alg[alg]
    token = sign_vc_jwt(_credential(), key, KID, alg)
    decoded = decode_vc_jwt(token)
    assert decoded.header == {"alg": alg, "kid": KID}
    verify_vc_jwt_signature(token, key.public_key())
    verify_vc_jwt_signature(token, public_jwk(key))
    assert check_jwt_claims(decoded) == []


def test_rs256_is_the_default(rsa_key: rsa.RSAPrivateKey) -> None:
    assert decode_vc_jwt(sign_vc_jwt(_credential(), rsa_key, KID)).header["alg"] == "RS256"


def test_payload_is_the_credential_plus_derived_claims(rsa_key: rsa.RSAPrivateKey) -> None:
    credential = _credential(validUntil="2027-01-01T00:00:00Z")
    decoded = decode_vc_jwt(sign_vc_jwt(credential, rsa_key, KID))
    assert decoded.vc_version == "2.0"
    assert decoded.credential == credential
    assert {k: decoded.payload[k] for k in ("iss", "jti", "nbf", "exp", "sub")} == {
        "iss": "https://issuer.example/",
        "jti": credential["id"],
        "nbf": 1767225600,
        "exp": 1798761600,
        "sub": "did:example:learner",
    }
    assert "vc" not in decoded.payload


def test_no_sub_claim_when_the_subject_has_no_id(rsa_key: rsa.RSAPrivateKey) -> None:
    credential = _credential()
    del credential["credentialSubject"]["id"]
    credential["credentialSubject"]["identifier"] = [
        {"type": "IdentityObject", "identityHash": "x", "identityType": "emailAddress", "hashed": False}
    ]
    decoded = decode_vc_jwt(sign_vc_jwt(credential, rsa_key, KID))
    assert "sub" not in decoded.payload
    assert check_jwt_claims(decoded) == []


def test_vc_11_credentials_go_into_the_vc_claim(rsa_key: rsa.RSAPrivateKey) -> None:
    credential = _credential(issuanceDate="2026-01-01T00:00:00Z", expirationDate="2027-01-01T00:00:00Z")
    credential["@context"] = [
        "https://www.w3.org/2018/credentials/v1",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
    ]
    del credential["validFrom"]
    decoded = decode_vc_jwt(sign_vc_jwt(credential, rsa_key, KID))
    assert decoded.vc_version == "1.1"
    assert decoded.credential == credential
    assert (decoded.payload["nbf"], decoded.payload["exp"]) == (1767225600, 1798761600)
    assert check_jwt_claims(decoded) == []


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (lambda c: c.pop("id"), JwtError),
        (lambda c: c.pop("issuer"), JwtError),
        (lambda c: c.pop("validFrom"), JwtError),
        (lambda c: c.update(validFrom="2026-01-01T00:00:00"), JwtError),
        (lambda c: c.update(validFrom="yesterday"), JwtError),
        (lambda c: c.update(iss="https://someone.else/"), JwtError),
    ],
)
def test_signing_refuses_credentials_without_the_claims_it_needs(
    rsa_key: rsa.RSAPrivateKey, mutate: Callable[[dict[str, Any]], Any], error: type[CredentialError]
) -> None:
    credential = _credential()
    mutate(credential)
    with pytest.raises(error):
        sign_vc_jwt(credential, rsa_key, KID)


@pytest.mark.parametrize(("alg", "kind"), [("RS256", "ES256"), ("ES256", "EdDSA"), ("EdDSA", "RS256")])
def test_signing_refuses_a_key_that_does_not_fit_the_alg(alg: str, kind: str, keys_by_alg: dict[str, Any]) -> None:
    with pytest.raises(KeyFormatError):
        sign_vc_jwt(_credential(), keys_by_alg[kind], KID, alg)


@pytest.mark.parametrize("alg", ["none", "HS256", "PS256", "ES384", "rs256"])
def test_signing_refuses_unsupported_algorithms(alg: str, rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(JwtError) as info:
        sign_vc_jwt(_credential(), rsa_key, KID, alg)
    assert info.value.code == "jwt_unsupported_alg"


JWT_EXAMPLES = ["ob3-v2-simple-vcjwt-rs256.jwt", "ob3-v1-simple-vcjwt-rs256.jwt"]
SVG_JWT_EXAMPLES = ["baked-ob3-v2-jwt.svg", "baked-ob3-v1-jwt.svg"]


@pytest.mark.parametrize("name", JWT_EXAMPLES)
def test_1edtech_jwt_examples_verify_with_their_jwk_header(name: str, example_text: Callable[[str], str]) -> None:
    token = example_text(name)
    decoded = decode_vc_jwt(token)
    verify_vc_jwt_signature(token, decoded.header["jwk"])
    assert decoded.vc_version == ("1.1" if "v1" in name else "2.0")


@pytest.mark.parametrize("name", SVG_JWT_EXAMPLES)
def test_jwts_baked_into_the_svg_examples_verify(name: str, example_text: Callable[[str], str]) -> None:
    match = re.search(r'verify="([A-Za-z0-9_.-]+)"', example_text(name))
    assert match
    decoded = decode_vc_jwt(match.group(1))
    verify_vc_jwt_signature(match.group(1), decoded.header["jwk"])


@pytest.mark.parametrize("name", JWT_EXAMPLES)
def test_missing_sub_in_1edtech_examples_is_only_a_warning(name: str, example_text: Callable[[str], str]) -> None:
    problems = check_jwt_claims(decode_vc_jwt(example_text(name)))
    assert [(p.claim, p.code, p.severity) for p in problems] == [("sub", "jwt_sub_missing", "warning")]


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"sub": "did:example:other"}, ("sub", "jwt_sub_mismatch", "error")),
        ({"iss": "https://evil.example/"}, ("iss", "jwt_iss_mismatch", "error")),
        ({"iss": None}, ("iss", "jwt_iss_missing", "error")),
        ({"jti": "urn:uuid:other"}, ("jti", "jwt_jti_mismatch", "error")),
        ({"jti": None}, ("jti", "jwt_jti_missing", "error")),
        ({"nbf": 1767225601}, ("nbf", "jwt_nbf_mismatch", "error")),
        ({"nbf": None}, ("nbf", "jwt_nbf_missing", "error")),
        ({"nbf": "1767225600"}, ("nbf", "jwt_claim_type", "error")),
        ({"exp": 1798761600}, ("exp", "jwt_exp_without_valid_until", "warning")),
        ({"iat": "now"}, ("iat", "jwt_claim_type", "error")),
    ],
)
def test_claim_checks_report_each_disagreement(
    rsa_key: rsa.RSAPrivateKey, claims: dict[str, Any], expected: tuple[str, str, str]
) -> None:
    decoded = decode_vc_jwt(sign_vc_jwt(_credential(), rsa_key, KID))
    payload = dict(decoded.payload)
    for name, value in claims.items():
        if value is None:
            payload.pop(name)
        else:
            payload[name] = value
    token = b64u_json(decoded.header) + "." + b64u_json(payload) + ".AA"
    problems = check_jwt_claims(decode_vc_jwt(token))
    assert [(p.claim, p.code, p.severity) for p in problems] == [expected]


def test_sub_present_while_the_subject_has_no_id_is_an_error(rsa_key: rsa.RSAPrivateKey) -> None:
    credential = _credential()
    del credential["credentialSubject"]["id"]
    payload = {
        **credential,
        "iss": "https://issuer.example/",
        "jti": credential["id"],
        "nbf": 1767225600,
        "sub": "did:example:x",
    }
    problems = check_jwt_claims(decode_vc_jwt(b64u_json({"alg": "RS256"}) + "." + b64u_json(payload) + ".AA"))
    assert [p.code for p in problems] == ["jwt_sub_mismatch"]


def test_exp_must_match_valid_until(rsa_key: rsa.RSAPrivateKey) -> None:
    decoded = decode_vc_jwt(sign_vc_jwt(_credential(validUntil="2027-01-01T00:00:00Z"), rsa_key, KID))
    payload = {**decoded.payload, "exp": 1798761601}
    problems = check_jwt_claims(decode_vc_jwt(b64u_json(decoded.header) + "." + b64u_json(payload) + ".AA"))
    assert [p.code for p in problems] == ["jwt_exp_mismatch"]
    del payload["exp"]
    problems = check_jwt_claims(decode_vc_jwt(b64u_json(decoded.header) + "." + b64u_json(payload) + ".AA"))
    assert [p.code for p in problems] == ["jwt_exp_missing"]


def test_vc_claim_with_a_vc2_context_is_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    credential = _credential()
    payload = {
        "vc": credential,
        "iss": "https://issuer.example/",
        "jti": credential["id"],
        "nbf": 1767225600,
        "sub": "did:example:learner",
    }
    problems = check_jwt_claims(decode_vc_jwt(b64u_json({"alg": "RS256"}) + "." + b64u_json(payload) + ".AA"))
    assert [p.code for p in problems] == ["jwt_vc_claim_context_mismatch", "jwt_nbf_unverifiable"]


def _tamper(token: str, part: int) -> str:
    pieces = token.split(".")
    if part == 0:
        header = json.loads(base64.urlsafe_b64decode(pieces[0] + "=="))
        header["kid"] = KID + "x"
        pieces[0] = b64u_json(header)
    elif part == 1:
        payload = json.loads(base64.urlsafe_b64decode(pieces[1] + "=" * (-len(pieces[1]) % 4)))
        payload["name"] = "Badge!"
        pieces[1] = b64u_json(payload)
    else:
        signature = bytearray(base64.urlsafe_b64decode(pieces[2] + "=" * (-len(pieces[2]) % 4)))
        signature[5] ^= 1
        pieces[2] = b64u(bytes(signature))
    return ".".join(pieces)


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
@pytest.mark.parametrize("part", [0, 1, 2], ids=["header", "payload", "signature"])
def test_tampering_any_part_is_caught(alg: str, part: int, keys_by_alg: dict[str, Any]) -> None:
    key = keys_by_alg[alg]
    token = _tamper(sign_vc_jwt(_credential(), key, KID, alg), part)
    with pytest.raises(InvalidSignature) as info:
        verify_vc_jwt_signature(token, key.public_key())
    assert info.value.code == "invalid_signature"


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_another_key_of_the_same_type_is_caught(alg: str, keys_by_alg: dict[str, Any]) -> None:
    token = sign_vc_jwt(_credential(), keys_by_alg[alg], KID, alg)
    other = {"RS256": lambda: generate_rsa(), "ES256": generate_p256, "EdDSA": generate_ed25519}[alg]()
    with pytest.raises(InvalidSignature):
        verify_vc_jwt_signature(token, other.public_key())


def test_alg_none_is_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    token = sign_vc_jwt(_credential(), rsa_key, KID)
    payload = token.split(".")[1]
    for header in ({"alg": "none"}, {"alg": "None"}, {"alg": "HS256", "kid": KID}):
        with pytest.raises(JwtError) as info:
            verify_vc_jwt_signature(b64u_json(header) + "." + payload + ".", rsa_key.public_key())
        assert info.value.code == "jwt_unsupported_alg"


def test_hs256_with_the_public_key_as_secret_is_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    import hashlib
    import hmac

    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    pem = rsa_key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    signing_input = b64u_json({"alg": "HS256"}) + "." + b64u_json(_credential())
    forged = signing_input + "." + b64u(hmac.new(pem, signing_input.encode(), hashlib.sha256).digest())
    with pytest.raises(JwtError):
        verify_vc_jwt_signature(forged, rsa_key.public_key())


@pytest.mark.parametrize(("alg", "kind"), [("RS256", "ES256"), ("ES256", "RS256"), ("EdDSA", "ES256")])
def test_alg_key_mismatch_is_refused(alg: str, kind: str, keys_by_alg: dict[str, Any]) -> None:
    token = sign_vc_jwt(_credential(), keys_by_alg[alg], KID, alg)
    with pytest.raises(KeyFormatError):
        verify_vc_jwt_signature(token, keys_by_alg[kind].public_key())


def test_jwk_whose_alg_disagrees_with_the_header_is_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    token = sign_vc_jwt(_credential(), rsa_key, KID)
    with pytest.raises(JwtError) as info:
        verify_vc_jwt_signature(token, {**public_jwk(rsa_key), "alg": "PS256"})
    assert info.value.code == "jwt_alg_key_mismatch"
    verify_vc_jwt_signature(token, {**public_jwk(rsa_key), "alg": "RS256"})


def _resign(header: dict[str, Any], key: Any, alg: str) -> str:
    from jwt import api_jws

    body = json.dumps(_credential()).encode()
    return api_jws.PyJWS().encode(body, key, algorithm=alg, headers={"typ": None, **header})


def test_header_with_a_private_jwk_is_refused(p256_key: ec.EllipticCurvePrivateKey) -> None:
    private_jwk = {**public_jwk(p256_key), "d": "AAAA"}
    token = _resign({"jwk": private_jwk}, p256_key, "ES256")
    with pytest.raises(KeyFormatError):
        verify_vc_jwt_signature(token, p256_key.public_key())


@pytest.mark.parametrize(
    "header",
    [{"crit": ["exp"]}, {"x5u": "https://evil.example/"}, {"jku": "https://evil.example/"}, {"typ": "JOSE+JSON"}],
)
def test_unexpected_header_members_are_refused(header: dict[str, Any], p256_key: ec.EllipticCurvePrivateKey) -> None:
    token = _resign(header, p256_key, "ES256")
    with pytest.raises(JwtError) as info:
        verify_vc_jwt_signature(token, p256_key.public_key())
    assert info.value.code == "jwt_header_not_allowed"


@pytest.mark.parametrize("typ", ["JWT", "vc+jwt", "vc-ld+jwt"])
def test_tolerated_typ_values(typ: str, p256_key: ec.EllipticCurvePrivateKey) -> None:
    verify_vc_jwt_signature(_resign({"typ": typ}, p256_key, "ES256"), p256_key.public_key())


@pytest.mark.parametrize(
    "token",
    [
        "",
        "a.b",
        "a.b.c.d",
        ".e30.",
        "e30..",
        "!!!.e30.AA",
        "e30.e30.A",
        b64u(b"[]") + ".e30.AA",
        "e30.e30.AA",
        b64u_json({"alg": 1}) + ".e30.AA",
        b64u_json({"alg": "RS256"}) + "." + b64u(b'{"a":1,"a":2}') + ".AA",
        b64u_json({"alg": "RS256"}) + "." + b64u(b'{"a":NaN}') + ".AA",
        b64u_json({"alg": "RS256"}) + "." + b64u(b"\xff\xfe") + ".AA",
        b64u_json({"alg": "RS256"}) + "." + b64u_json({"vc": "x"}) + ".AA",
        b64u_json({"alg": "RS256"}) + "." + b64u_json([1]) + ".AA",
    ],
)
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(JwtError) as info:
        decode_vc_jwt(token)
    assert info.value.code == "jwt_malformed"


def test_non_string_token_is_refused() -> None:
    with pytest.raises(JwtError):
        decode_vc_jwt(b"e30.e30.AA")  # type: ignore[arg-type]


@settings(max_examples=300)
@given(
    st.one_of(
        st.text(max_size=200),
        st.lists(st.text(alphabet="AZaz09-_=+/{}\"':,.", max_size=40), min_size=1, max_size=5).map(".".join),
    )
)
def test_decoder_and_verifier_raise_only_credential_errors_on_random_input(token: str) -> None:
    key = public_jwk(generate_ed25519())
    with contextlib.suppress(CredentialError):
        decode_vc_jwt(token)
    with contextlib.suppress(CredentialError):
        verify_vc_jwt_signature(token, key)


@given(st.data())
def test_truncated_and_bit_flipped_tokens_raise_only_credential_errors(data: st.DataObject) -> None:
    token = _STATIC_TOKEN
    cut = data.draw(st.integers(min_value=0, max_value=len(token)))
    position = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    flipped = token[:position] + data.draw(st.sampled_from("A_-.=x")) + token[position + 1 :]
    for candidate in (token[:cut], flipped):
        with contextlib.suppress(CredentialError):
            decoded = decode_vc_jwt(candidate)
            check_jwt_claims(decoded)
            verify_vc_jwt_signature(candidate, _STATIC_KEY.public_key())


_STATIC_KEY = generate_ed25519()
_STATIC_TOKEN = sign_vc_jwt(_credential(validUntil="2027-01-01T00:00:00Z"), _STATIC_KEY, KID, "EdDSA")


def test_jwk_thumbprint_input_keeps_only_the_required_members(p256_key: ec.EllipticCurvePrivateKey) -> None:
    jwk = public_jwk(p256_key, kid="k")
    data = json.loads(jwk_thumbprint_input(jwk))
    assert list(data) == ["crv", "kty", "x", "y"]
    with pytest.raises(KeyFormatError):
        jwk_thumbprint_input({**jwk, "d": "AAAA"})
