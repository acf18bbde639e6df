"""Encryption at rest of private signing keys (pure: no database, no Flask, no I/O).

Format of a stored private key (version 1)::

    blob = 0x01 || nonce (12 random bytes) || AES-256-GCM(KEK, nonce, PKCS#8 DER, ad) (ciphertext + 16-byte tag)
    ad   = 0x01 || caller's associated data

The leading format byte lets the scheme evolve (another cipher, a KEK identifier …) without guessing: an
unknown byte is refused, never tried. It is also part of the authenticated data, so it cannot be altered.
The caller's associated data binds the blob to its key row (see :func:`signing_key_aad`): a blob copied to
another row, organisation or algorithm fails to decrypt instead of signing in someone else's name.
"""

from __future__ import annotations

import json
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_der_private_key,
)

from badgehub.credentials.keys import PrivateKey
from badgehub.keys.errors import InvalidKek, KekMissing, KeyDecryptionFailed, UnknownKeyFormat

FORMAT_V1 = 0x01
NONCE_BYTES = 12
TAG_BYTES = 16
KEK_BYTES = 32

_KEK_PATTERN = re.compile(r"[0-9a-fA-F]{64}")


def parse_kek(value: str | None) -> bytes:
    """Return the 32-byte key-encryption key written as 64 hexadecimal characters.

    Surrounding white space is ignored (the key file ends with a newline). Raises :class:`KekMissing`
    when ``value`` is empty or ``None``, and :class:`InvalidKek` for anything but exactly 64 hex digits.
    """
    if value is None or not value.strip():
        raise KekMissing()
    text = value.strip()
    if not _KEK_PATTERN.fullmatch(text):
        # Never echo the value: it is (or is close to) a secret.
        raise InvalidKek(details={"length": len(text)})
    return bytes.fromhex(text)


def signing_key_aad(organisation_id: int, key_id: str, algorithm: str) -> bytes:
    """Return the associated data binding a ciphertext to one key row (organisation, key id, algorithm).

    JSON of a fixed-order array, so no two different triples can encode to the same bytes.
    """
    return json.dumps(["badgehub-signing-key", organisation_id, key_id, algorithm],
                      separators=(",", ":")).encode("utf-8")


def _check_kek(kek: bytes) -> None:
    if not isinstance(kek, bytes) or len(kek) != KEK_BYTES:
        raise InvalidKek()


def encrypt_private_key(private_key: PrivateKey, kek: bytes, aad: bytes) -> bytes:
    """Serialise ``private_key`` as PKCS#8 DER and encrypt it with AES-256-GCM under ``kek``.

    A fresh random 96-bit nonce is drawn for every call. Returns the version-1 blob described in the
    module docstring. Raises :class:`InvalidKek` when ``kek`` is not 32 bytes.
    """
    _check_kek(kek)
    plaintext = private_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    nonce = os.urandom(NONCE_BYTES)
    version = bytes([FORMAT_V1])
    return version + nonce + AESGCM(kek).encrypt(nonce, plaintext, version + aad)


def decrypt_private_key(blob: bytes, kek: bytes, aad: bytes) -> PrivateKey:
    """Decrypt a blob made by :func:`encrypt_private_key` and return the private key.

    Raises :class:`UnknownKeyFormat` for an unknown format byte, :class:`KeyDecryptionFailed` when the
    blob is truncated, was altered, was made with another KEK or for other associated data, and
    :class:`InvalidKek` when ``kek`` is not 32 bytes. Error messages never include key material.
    """
    _check_kek(kek)
    if not blob:
        raise KeyDecryptionFailed()
    if blob[0] != FORMAT_V1:
        raise UnknownKeyFormat(details={"format": blob[0]})
    if len(blob) < 1 + NONCE_BYTES + TAG_BYTES + 1:
        raise KeyDecryptionFailed()
    version, nonce, ciphertext = blob[:1], blob[1:1 + NONCE_BYTES], blob[1 + NONCE_BYTES:]
    try:
        plaintext = AESGCM(kek).decrypt(nonce, ciphertext, version + aad)
    except InvalidTag:
        raise KeyDecryptionFailed() from None
    try:
        # OpenSSL's RSA key validation (primality checks, about 40 ms a key) guards against keys from elsewhere;
        # this one is the key we generated, and AES-GCM has just proved it is unchanged. Every signature pays it.
        key = load_der_private_key(plaintext, password=None, unsafe_skip_rsa_key_validation=True)
    except (ValueError, TypeError):
        raise UnknownKeyFormat() from None
    if not isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise UnknownKeyFormat()
    return key


def reencrypt_private_key(blob: bytes, old_kek: bytes, new_kek: bytes, aad: bytes) -> bytes:
    """Return ``blob`` decrypted with ``old_kek`` and encrypted anew under ``new_kek`` (same associated data,
    fresh nonce), for a change of KEK. Raises what :func:`decrypt_private_key` raises, so a wrong old KEK
    changes nothing."""
    return encrypt_private_key(decrypt_private_key(blob, old_kek, aad), new_kek, aad)
