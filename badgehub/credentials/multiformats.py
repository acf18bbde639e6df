"""base58btc, multibase and Multikey encodings (the parts Data Integrity and did:key need).

Only what Open Badges 3.0 uses is implemented: multibase ``z`` (base58btc) and ``u`` (base64url,
no padding), and the Ed25519 public key multicodec ``0xed 0x01``.  Anything else is refused with a
:class:`~badgehub.credentials.errors.KeyFormatError`.
"""

from __future__ import annotations

import base64
import binascii
import re

from badgehub.credentials.errors import KeyFormatError

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B64U_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_B58_INDEX = {c: i for i, c in enumerate(_B58_ALPHABET)}

#: multicodec ``ed25519-pub`` (0xed) as an unsigned varint.
ED25519_PUB_MULTICODEC = b"\xed\x01"

# A guard against quadratic work on hostile input: no key or signature we handle is near this.
_MAX_B58_LENGTH = 4096


def base58btc_encode(data: bytes) -> str:
    """Encode bytes in base58 with the Bitcoin alphabet (leading zero bytes become ``1``)."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, rem = divmod(number, 58)
        digits.append(_B58_ALPHABET[rem])
    return "1" * zeros + "".join(reversed(digits))


def base58btc_decode(text: str) -> bytes:
    """Decode a base58btc string (Bitcoin alphabet).

    Raises :class:`KeyFormatError` for a non-string, an empty or over-long string, or a character
    outside the alphabet.
    """
    if not isinstance(text, str) or not text:
        raise KeyFormatError("base58btc: empty or non-string input")
    if len(text) > _MAX_B58_LENGTH:
        raise KeyFormatError("base58btc: input too long")
    number = 0
    for char in text:
        try:
            number = number * 58 + _B58_INDEX[char]
        except KeyError:
            raise KeyFormatError(f"base58btc: invalid character {char!r}") from None
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def multibase_encode_base58btc(data: bytes) -> str:
    """Return the multibase base58btc form ``"z" + base58btc(data)``."""
    return "z" + base58btc_encode(data)


def multibase_decode(text: str) -> bytes:
    """Decode a multibase string with prefix ``z`` (base58btc) or ``u`` (base64url, no padding).

    Raises :class:`KeyFormatError` for any other prefix or an invalid body.
    """
    if not isinstance(text, str) or len(text) < 2:
        raise KeyFormatError("multibase: empty or non-string input")
    prefix, body = text[0], text[1:]
    if prefix == "z":
        return base58btc_decode(body)
    if prefix == "u":
        if not _B64U_RE.match(body):
            raise KeyFormatError("multibase base64url: character outside the unpadded base64url alphabet")
        try:
            return base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise KeyFormatError(f"multibase base64url: {exc}") from None
    raise KeyFormatError(f"multibase: unsupported prefix {prefix!r} (only 'z' and 'u')")


def ed25519_public_key_to_multikey(raw32: bytes) -> str:
    """Return the Multikey ``publicKeyMultibase`` (``z6Mk…``) of a raw 32-byte Ed25519 public key.

    Raises :class:`KeyFormatError` when ``raw32`` is not 32 bytes.
    """
    if not isinstance(raw32, bytes | bytearray) or len(raw32) != 32:
        raise KeyFormatError("Ed25519 public key must be 32 bytes")
    return multibase_encode_base58btc(ED25519_PUB_MULTICODEC + bytes(raw32))


def multikey_to_ed25519_public_key(multikey: str) -> bytes:
    """Return the raw 32-byte Ed25519 public key of a Multikey ``z6Mk…`` string.

    Raises :class:`KeyFormatError` unless the value is base58btc multibase of ``0xed 0x01`` followed
    by exactly 32 bytes (any other multicodec, e.g. P-256 or X25519, is refused).
    """
    if not isinstance(multikey, str) or not multikey.startswith("z"):
        raise KeyFormatError("Multikey publicKeyMultibase must be base58btc ('z' prefix)")
    data = multibase_decode(multikey)
    if data[:2] != ED25519_PUB_MULTICODEC:
        raise KeyFormatError("Multikey is not an Ed25519 public key (multicodec 0xed01)")
    if len(data) != 34:
        raise KeyFormatError("Ed25519 Multikey must hold exactly 32 key bytes")
    return data[2:]
