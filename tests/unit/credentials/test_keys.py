"""Key generation, public JWKs (never private members) and Multikey verification methods."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from badgehub.credentials.errors import CredentialError, KeyFormatError
from badgehub.credentials.keys import (
    ed25519_private_key_from_seed,
    ed25519_public_key_from_multikey,
    ed25519_raw_public_key,
    generate_ed25519,
    generate_p256,
    generate_rsa,
    multikey_verification_method,
    public_jwk,
    public_key_from_jwk,
)

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return generate_rsa()


@pytest.mark.parametrize("kind", ["ed25519", "p256", "rsa"])
def test_public_jwk_round_trips_and_never_holds_private_members(kind: str, rsa_key: rsa.RSAPrivateKey) -> None:
    private = {"ed25519": generate_ed25519, "p256": generate_p256, "rsa": lambda: rsa_key}[kind]()
    jwk = public_jwk(private, kid="https://example.org/keys/1")
    assert not PRIVATE_MEMBERS & set(jwk)
    assert jwk["kid"] == "https://example.org/keys/1"
    restored = public_key_from_jwk(jwk)
    assert public_jwk(restored) == {k: v for k, v in jwk.items() if k != "kid"}
    assert public_jwk(private.public_key(), kid="https://example.org/keys/1") == jwk


def test_jwk_shapes_follow_rfc_7518_and_8037(rsa_key: rsa.RSAPrivateKey) -> None:
    assert set(public_jwk(generate_ed25519())) == {"kty", "crv", "x"}
    assert public_jwk(generate_ed25519())["crv"] == "Ed25519"
    p256 = public_jwk(generate_p256())
    assert (p256["kty"], p256["crv"], len(p256["x"]), len(p256["y"])) == ("EC", "P-256", 43, 43)
    assert public_jwk(rsa_key)["e"] == "AQAB"


@pytest.mark.parametrize("member", sorted(PRIVATE_MEMBERS))
def test_jwk_with_a_private_member_is_refused(member: str) -> None:
    jwk: dict[str, Any] = {**public_jwk(generate_p256()), member: "AAAA"}
    with pytest.raises(KeyFormatError) as info:
        public_key_from_jwk(jwk)
    assert "private" in info.value.message


def test_small_rsa_keys_are_refused() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(KeyFormatError):
        public_key_from_jwk(public_jwk(small))
    with pytest.raises(KeyFormatError):
        generate_rsa(1024)


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "EC", "crv": "P-256", "x": "A" * 43, "y": "A" * 43},  # not on the curve
        {"kty": "EC", "crv": "P-384", "x": "A" * 64, "y": "A" * 64},
        {"kty": "OKP", "crv": "X25519", "x": "A" * 43},
        {"kty": "OKP", "crv": "Ed25519", "x": "A" * 42},
        {"kty": "OKP", "crv": "Ed25519", "x": "A" * 43 + "="},
        {"kty": "OKP", "crv": "Ed25519", "x": "A+/" + "A" * 40},
        {"kty": "oct", "k": "AAAA"},
        {"kty": "RSA", "n": "AQAB"},
        {"kty": "OKP", "crv": "Ed25519", "x": "A" * 43, "use": "enc"},
        {},
    ],
)
def test_invalid_jwks_are_refused(jwk: dict[str, Any]) -> None:
    with pytest.raises(KeyFormatError):
        public_key_from_jwk(jwk)


def test_non_object_jwk_is_refused() -> None:
    with pytest.raises(KeyFormatError):
        public_key_from_jwk(["kty", "RSA"])  # type: ignore[arg-type]


_jwk_values = st.one_of(
    st.text(max_size=50), st.integers(), st.none(), st.booleans(), st.lists(st.text(max_size=5), max_size=2)
)


@settings(max_examples=300)
@given(
    st.fixed_dictionaries(
        {"kty": st.sampled_from(["RSA", "EC", "OKP", "oct", ""])},
        optional={
            "crv": st.sampled_from(["P-256", "Ed25519", "X"]),
            "x": _jwk_values,
            "y": _jwk_values,
            "n": _jwk_values,
            "e": _jwk_values,
        },
    )
)
def test_jwk_parser_raises_only_credential_errors(jwk: dict[str, Any]) -> None:
    with contextlib.suppress(CredentialError):
        public_key_from_jwk(jwk)


@given(st.integers(min_value=0, max_value=42))
def test_truncated_ed25519_jwk_members_are_refused(cut: int) -> None:
    jwk = public_jwk(ed25519_private_key_from_seed(b"\x01" * 32))
    with pytest.raises(KeyFormatError):
        public_key_from_jwk({**jwk, "x": jwk["x"][:cut]})


def test_multikey_verification_method_is_the_w3c_form() -> None:
    key = ed25519_private_key_from_seed(
        bytes.fromhex("6241a409e6707bb640a0140a8a32bc3d193c33a661747284d6adfa4ed4180be4")
    )
    vm = multikey_verification_method(
        "https://example.edu/issuers/565049#key-1", "https://example.edu/issuers/565049", key.public_key()
    )
    assert vm == {
        "id": "https://example.edu/issuers/565049#key-1",
        "type": "Multikey",
        "controller": "https://example.edu/issuers/565049",
        "publicKeyMultibase": "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi",
    }
    assert ed25519_raw_public_key(ed25519_public_key_from_multikey(vm["publicKeyMultibase"])) == ed25519_raw_public_key(
        key
    )


def test_multikey_verification_method_refuses_other_key_types() -> None:
    with pytest.raises(KeyFormatError):
        multikey_verification_method("urn:x#1", "urn:x", generate_p256().public_key())  # type: ignore[arg-type]


def test_generated_keys_have_the_expected_types() -> None:
    assert isinstance(generate_ed25519(), ed25519.Ed25519PrivateKey)
    assert isinstance(generate_p256().curve, ec.SECP256R1)
    assert generate_rsa(2048).key_size == 2048


@pytest.mark.parametrize("seed", [b"", b"\x00" * 31, b"\x00" * 33])
def test_seed_must_be_32_bytes(seed: bytes) -> None:
    with pytest.raises(KeyFormatError):
        ed25519_private_key_from_seed(seed)
