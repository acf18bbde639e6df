"""Encryption at rest of private keys: round trip, and every kind of tampering refused."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from badgehub.credentials.keys import generate_ed25519, generate_rsa
from badgehub.keys.crypto import (
    FORMAT_V1,
    NONCE_BYTES,
    decrypt_private_key,
    encrypt_private_key,
    parse_kek,
    signing_key_aad,
)
from badgehub.keys.errors import InvalidKek, KekMissing, KeyDecryptionFailed, UnknownKeyFormat

KEK = bytes(range(32))
OTHER_KEK = bytes(range(1, 33))
AAD = signing_key_aad(1, "key-aaaaaaaa", "ed25519")


def der(key):
    return key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())


@pytest.fixture(scope="module")
def rsa_key():
    return generate_rsa(2048)


def test_round_trip_gives_back_the_same_ed25519_key():
    key = generate_ed25519()
    assert der(decrypt_private_key(encrypt_private_key(key, KEK, AAD), KEK, AAD)) == der(key)


def test_round_trip_gives_back_the_same_rsa_key(rsa_key):
    aad = signing_key_aad(1, "key-bbbbbbbb", "rsa-2048")
    assert der(decrypt_private_key(encrypt_private_key(rsa_key, KEK, aad), KEK, aad)) == der(rsa_key)


def test_blob_is_format_byte_nonce_ciphertext_and_tag_and_holds_no_plaintext():
    key = generate_ed25519()
    blob = encrypt_private_key(key, KEK, AAD)
    assert blob[0] == FORMAT_V1
    assert len(blob) == 1 + NONCE_BYTES + len(der(key)) + 16
    assert der(key) not in blob
    assert key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()) not in blob


def test_every_encryption_draws_a_fresh_nonce():
    key = generate_ed25519()
    first, second = encrypt_private_key(key, KEK, AAD), encrypt_private_key(key, KEK, AAD)
    assert first[1:1 + NONCE_BYTES] != second[1:1 + NONCE_BYTES]
    assert first != second


@pytest.mark.parametrize("position", [1, NONCE_BYTES + 1, NONCE_BYTES + 10, -1])
def test_tampered_blob_is_refused(position):
    blob = bytearray(encrypt_private_key(generate_ed25519(), KEK, AAD))
    blob[position] ^= 0x01
    with pytest.raises(KeyDecryptionFailed) as caught:
        decrypt_private_key(bytes(blob), KEK, AAD)
    assert caught.value.code == "signing_key_decryption_failed"


def test_truncated_blob_is_refused():
    blob = encrypt_private_key(generate_ed25519(), KEK, AAD)
    for length in (0, 1, 1 + NONCE_BYTES, len(blob) - 1):
        with pytest.raises(KeyDecryptionFailed):
            decrypt_private_key(blob[:length], KEK, AAD)


def test_wrong_kek_is_refused():
    blob = encrypt_private_key(generate_ed25519(), KEK, AAD)
    with pytest.raises(KeyDecryptionFailed):
        decrypt_private_key(blob, OTHER_KEK, AAD)


@pytest.mark.parametrize("other", [
    signing_key_aad(2, "key-aaaaaaaa", "ed25519"),
    signing_key_aad(1, "key-aaaaaaab", "ed25519"),
    signing_key_aad(1, "key-aaaaaaaa", "rsa-2048"),
])
def test_blob_bound_to_another_row_is_refused(other):
    blob = encrypt_private_key(generate_ed25519(), KEK, AAD)
    with pytest.raises(KeyDecryptionFailed):
        decrypt_private_key(blob, KEK, other)


def test_unknown_format_byte_is_refused_and_not_tried():
    blob = bytearray(encrypt_private_key(generate_ed25519(), KEK, AAD))
    blob[0] = 0x02
    with pytest.raises(UnknownKeyFormat) as caught:
        decrypt_private_key(bytes(blob), KEK, AAD)
    assert caught.value.code == "signing_key_format_unknown"


def test_format_byte_is_part_of_the_authenticated_data():
    # A blob whose tag covers the caller's data alone (format byte left out) must not decrypt: the format
    # byte cannot be re-labelled to make a future reader treat a blob under another scheme.
    nonce = bytes(NONCE_BYTES)
    forged = bytes([FORMAT_V1]) + nonce + AESGCM(KEK).encrypt(nonce, der(generate_ed25519()), AAD)
    with pytest.raises(KeyDecryptionFailed):
        decrypt_private_key(forged, KEK, AAD)


@pytest.mark.parametrize("kek", [b"", bytes(31), bytes(33)])
def test_kek_of_wrong_length_is_refused(kek):
    with pytest.raises(InvalidKek):
        encrypt_private_key(generate_ed25519(), kek, AAD)
    with pytest.raises(InvalidKek):
        decrypt_private_key(b"\x01" + bytes(40), kek, AAD)


def test_aad_of_different_rows_differ():
    triples = [(1, "key-a", "ed25519"), (1, "key-a", "rsa-2048"), (2, "key-a", "ed25519"), (1, "key-b", "ed25519"),
               (11, "key-a", "ed25519")]
    assert len({signing_key_aad(*triple) for triple in triples}) == len(triples)


def test_parse_kek_accepts_64_hex_characters_and_trims_white_space():
    assert parse_kek("0f" * 32) == bytes([15]) * 32
    assert parse_kek("  " + "AB" * 32 + "\n") == bytes([0xAB]) * 32


@pytest.mark.parametrize("value", [None, "", "   \n"])
def test_parse_kek_says_run_badgehub_init_when_missing(value):
    with pytest.raises(KekMissing) as caught:
        parse_kek(value)
    assert "badgehub init" in str(caught.value)
    assert caught.value.code == "kek_missing"


@pytest.mark.parametrize("value", ["0f" * 31, "0f" * 33, "zz" * 32, "0f" * 31 + " f", "0x" + "0f" * 31])
def test_parse_kek_refuses_anything_but_64_hex_digits_without_echoing_it(value):
    with pytest.raises(InvalidKek) as caught:
        parse_kek(value)
    assert caught.value.code == "kek_invalid"
    assert value.strip() not in str(caught.value)
    assert "64" in str(caught.value)
