"""base58btc, multibase and Ed25519 Multikey encodings."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from badgehub.credentials.errors import CredentialError, KeyFormatError
from badgehub.credentials.multiformats import (
    base58btc_decode,
    base58btc_encode,
    ed25519_public_key_to_multikey,
    multibase_decode,
    multibase_encode_base58btc,
    multikey_to_ed25519_public_key,
)

# The OB 3.0 test vector's key (a published TEST key).
TEST_PUBLIC_HEX = "4bdeafde2ea8beefadd8c699b5c7e0704cf51154d52e17b20b71337ca04cc5a5"
TEST_MULTIKEY = "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [(b"", ""), (b"\0", "1"), (b"\0\0\x01", "112"), (b"hello world", "StV1DL6CwTryKyV"), (b"\xff", "5Q")],
)
def test_base58btc_known_values(raw: bytes, encoded: str) -> None:
    assert base58btc_encode(raw) == encoded
    if encoded:
        assert base58btc_decode(encoded) == raw


@given(st.binary(min_size=1, max_size=80))
def test_base58btc_round_trips_including_leading_zero_bytes(data: bytes) -> None:
    encoded = multibase_encode_base58btc(data)
    assert encoded.startswith("z")
    assert multibase_decode(encoded) == data


def test_multibase_base64url_prefix_is_decoded() -> None:
    assert multibase_decode("uaGVsbG8") == b"hello"


@pytest.mark.parametrize("value", ["", "z", "u", "f68656c6c6f", "zO0Il", "uaGVsbG8=", "u*", "m+/", "Zabc"])
def test_multibase_refuses_bad_prefixes_and_bodies(value: str) -> None:
    with pytest.raises(KeyFormatError) as info:
        multibase_decode(value)
    assert info.value.code == "key_format"


def test_test_vector_multikey_matches_its_public_key() -> None:
    raw = bytes.fromhex(TEST_PUBLIC_HEX)
    assert ed25519_public_key_to_multikey(raw) == TEST_MULTIKEY
    assert multikey_to_ed25519_public_key(TEST_MULTIKEY) == raw


@given(st.binary(min_size=32, max_size=32))
def test_every_ed25519_multikey_starts_with_z6mk_and_round_trips(raw: bytes) -> None:
    multikey = ed25519_public_key_to_multikey(raw)
    assert multikey.startswith("z6Mk")
    assert multikey_to_ed25519_public_key(multikey) == raw


@pytest.mark.parametrize(
    "value",
    [
        "zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169",  # P-256 (0x1200)
        "z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc",  # X25519 (0xec)
        multibase_encode_base58btc(b"\xed\x01" + b"\x01" * 31),
        multibase_encode_base58btc(b"\xed\x01" + b"\x01" * 33),
        "u7QE" + "A" * 43,
        TEST_MULTIKEY[:-1],
        "6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi",
    ],
)
def test_multikey_refuses_anything_but_an_ed25519_public_key(value: str) -> None:
    with pytest.raises(KeyFormatError):
        multikey_to_ed25519_public_key(value)


@pytest.mark.parametrize("raw", [b"", b"\x01" * 31, b"\x01" * 33])
def test_multikey_encoder_refuses_wrong_key_lengths(raw: bytes) -> None:
    with pytest.raises(KeyFormatError):
        ed25519_public_key_to_multikey(raw)


@settings(max_examples=300)
@given(st.one_of(st.text(max_size=120), st.binary(max_size=60).map(lambda b: "z" + base58btc_encode(b))))
def test_multibase_and_multikey_parsers_raise_only_credential_errors(value: str) -> None:
    for parse in (multibase_decode, multikey_to_ed25519_public_key, base58btc_decode):
        with contextlib.suppress(CredentialError):
            parse(value)


@given(st.integers(min_value=0, max_value=len(TEST_MULTIKEY)))
def test_truncated_multikeys_are_refused(cut: int) -> None:
    value = TEST_MULTIKEY[:cut]
    if value == TEST_MULTIKEY:
        assert multikey_to_ed25519_public_key(value)
    else:
        with pytest.raises(KeyFormatError):
            multikey_to_ed25519_public_key(value)


@pytest.mark.parametrize("value", [None, 42, b"z6Mk"])
def test_parsers_refuse_non_strings(value: object) -> None:
    with pytest.raises(KeyFormatError):
        multibase_decode(value)  # type: ignore[arg-type]
    with pytest.raises(KeyFormatError):
        multikey_to_ed25519_public_key(value)  # type: ignore[arg-type]


def test_base58btc_refuses_over_long_input() -> None:
    with pytest.raises(KeyFormatError):
        base58btc_decode("2" * 5000)
