"""Key generation, public JWKs and W3C Multikey verification methods.

Keys are ``cryptography`` objects throughout.  Ed25519 signs Data Integrity proofs (and EdDSA
JWTs); RSA (RS256) and P-256 (ES256) sign VC-JWTs.  A JWK produced or accepted here is always a
PUBLIC key: private members are never written and are refused on input, so a private key cannot
leak through a JWT header, a DID document or a JWKS.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any, TypeAlias

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from badgehub.credentials.errors import KeyFormatError
from badgehub.credentials.multiformats import (
    ed25519_public_key_to_multikey,
    multikey_to_ed25519_public_key,
)

PublicKey: TypeAlias = ed25519.Ed25519PublicKey | rsa.RSAPublicKey | ec.EllipticCurvePublicKey
PrivateKey: TypeAlias = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

#: RSA keys shorter than this are refused (NIST SP 800-57: 2048 bits is the floor for RS256).
MIN_RSA_BITS = 2048
#: Larger moduli are refused too: verifying with a huge modulus is a cheap denial of service.
MAX_RSA_BITS = 8192

_B64U_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


def generate_ed25519() -> ed25519.Ed25519PrivateKey:
    """Generate a new Ed25519 private key (for eddsa-rdfc-2022 proofs and EdDSA JWTs)."""
    return ed25519.Ed25519PrivateKey.generate()


def generate_rsa(bits: int = 2048) -> rsa.RSAPrivateKey:
    """Generate a new RSA private key with public exponent 65537 (for RS256 JWTs).

    Raises :class:`KeyFormatError` when ``bits`` is outside [MIN_RSA_BITS, MAX_RSA_BITS].
    """
    if not MIN_RSA_BITS <= bits <= MAX_RSA_BITS:
        raise KeyFormatError(f"RSA key size must be between {MIN_RSA_BITS} and {MAX_RSA_BITS} bits")
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def generate_p256() -> ec.EllipticCurvePrivateKey:
    """Generate a new NIST P-256 private key (for ES256 JWTs)."""
    return ec.generate_private_key(ec.SECP256R1())


def ed25519_private_key_from_seed(seed: bytes) -> ed25519.Ed25519PrivateKey:
    """Return the Ed25519 private key for a 32-byte seed.

    Raises :class:`KeyFormatError` when the seed is not 32 bytes.
    """
    if not isinstance(seed, bytes | bytearray) or len(seed) != 32:
        raise KeyFormatError("Ed25519 seed must be 32 bytes")
    return ed25519.Ed25519PrivateKey.from_private_bytes(bytes(seed))


def ed25519_public_key_from_raw(raw32: bytes) -> ed25519.Ed25519PublicKey:
    """Return the Ed25519 public key object for 32 raw bytes.

    Raises :class:`KeyFormatError` when the bytes are not a valid Ed25519 public key.
    """
    if not isinstance(raw32, bytes | bytearray) or len(raw32) != 32:
        raise KeyFormatError("Ed25519 public key must be 32 bytes")
    try:
        return ed25519.Ed25519PublicKey.from_public_bytes(bytes(raw32))
    except ValueError as exc:
        raise KeyFormatError(f"invalid Ed25519 public key: {exc}") from None


def ed25519_raw_public_key(key: ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey) -> bytes:
    """Return the 32 raw bytes of an Ed25519 public key (or of a private key's public half)."""
    public = key.public_key() if isinstance(key, ed25519.Ed25519PrivateKey) else key
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def ed25519_public_key_from_multikey(multikey: str) -> ed25519.Ed25519PublicKey:
    """Return the Ed25519 public key of a Multikey ``z6Mk…`` string.

    Raises :class:`KeyFormatError` for any other multicodec or an invalid encoding.
    """
    return ed25519_public_key_from_raw(multikey_to_ed25519_public_key(multikey))


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64u_decode(value: Any, member: str) -> bytes:
    if not isinstance(value, str) or not _B64U_RE.match(value):
        raise KeyFormatError(f"JWK member {member!r} must be non-empty unpadded base64url")
    try:
        return base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise KeyFormatError(f"JWK member {member!r} is not base64url") from None


def _as_public(key: PublicKey | PrivateKey) -> PublicKey:
    if isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        return key.public_key()
    return key


def public_jwk(public_key: PublicKey | PrivateKey, kid: str | None = None) -> dict[str, str]:
    """Return the public JWK (RFC 7517/7518/8037) of an RSA, P-256 or Ed25519 key.

    A private key is accepted and reduced to its public half: the result never holds a private
    member.  ``kid`` is added when given.  Raises :class:`KeyFormatError` for another key type or
    curve.
    """
    key = _as_public(public_key)
    jwk: dict[str, str]
    if isinstance(key, ed25519.Ed25519PublicKey):
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64u(ed25519_raw_public_key(key))}
    elif isinstance(key, rsa.RSAPublicKey):
        numbers = key.public_numbers()
        jwk = {
            "kty": "RSA",
            "n": _b64u(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
            "e": _b64u(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
        }
    elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        ec_numbers = key.public_numbers()
        jwk = {
            "kty": "EC",
            "crv": "P-256",
            "x": _b64u(ec_numbers.x.to_bytes(32, "big")),
            "y": _b64u(ec_numbers.y.to_bytes(32, "big")),
        }
    else:
        raise KeyFormatError(f"unsupported key type {type(key).__name__}")
    if kid is not None:
        jwk["kid"] = kid
    return jwk


def public_key_from_jwk(jwk: Mapping[str, Any]) -> PublicKey:
    """Return the public key of a JWK: RSA (2048–8192 bits), EC P-256 or OKP Ed25519.

    Raises :class:`KeyFormatError` for a non-object, a JWK with any private member (``d``, ``p``,
    ``q``, ``dp``, ``dq``, ``qi``, ``oth``, ``k``), ``use`` other than ``sig``, an unsupported
    ``kty``/``crv``, or members that do not decode to a valid key (points are checked to be on the
    curve).
    """
    if not isinstance(jwk, Mapping):
        raise KeyFormatError("JWK must be a JSON object")
    private = sorted(_PRIVATE_JWK_MEMBERS.intersection(jwk))
    if private:
        raise KeyFormatError(f"JWK carries private member(s) {private}: refused")
    if "use" in jwk and jwk["use"] != "sig":
        raise KeyFormatError("JWK 'use' must be 'sig'")
    kty = jwk.get("kty")
    if kty == "RSA":
        n = int.from_bytes(_b64u_decode(jwk.get("n"), "n"), "big")
        e = int.from_bytes(_b64u_decode(jwk.get("e"), "e"), "big")
        if not MIN_RSA_BITS <= n.bit_length() <= MAX_RSA_BITS:
            raise KeyFormatError(f"RSA modulus of {n.bit_length()} bits is outside the accepted range")
        if e < 3 or e % 2 == 0 or e.bit_length() > 64:
            raise KeyFormatError("RSA public exponent is not acceptable")
        try:
            return rsa.RSAPublicNumbers(e, n).public_key()
        except ValueError as exc:
            raise KeyFormatError(f"invalid RSA key: {exc}") from None
    if kty == "EC":
        if jwk.get("crv") != "P-256":
            raise KeyFormatError("only EC curve P-256 is supported")
        x = _b64u_decode(jwk.get("x"), "x")
        y = _b64u_decode(jwk.get("y"), "y")
        if len(x) != 32 or len(y) != 32:
            raise KeyFormatError("P-256 coordinates must be 32 bytes")
        try:
            return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + x + y)
        except ValueError as exc:
            raise KeyFormatError(f"invalid P-256 point: {exc}") from None
    if kty == "OKP":
        if jwk.get("crv") != "Ed25519":
            raise KeyFormatError("only OKP curve Ed25519 is supported")
        return ed25519_public_key_from_raw(_b64u_decode(jwk.get("x"), "x"))
    raise KeyFormatError(f"unsupported JWK kty {kty!r}")


def multikey_verification_method(vm_id: str, controller: str, public_key: ed25519.Ed25519PublicKey) -> dict[str, str]:
    """Return the W3C Multikey verification method object for an Ed25519 key.

    ``{"id": vm_id, "type": "Multikey", "controller": controller, "publicKeyMultibase": "z6Mk…"}``,
    as it goes into a DID document or an issuer profile's ``verificationMethod``.  Raises
    :class:`KeyFormatError` when the key is not Ed25519.
    """
    if not isinstance(public_key, ed25519.Ed25519PublicKey):
        raise KeyFormatError("Multikey verification methods are made for Ed25519 keys only")
    return {
        "id": vm_id,
        "type": "Multikey",
        "controller": controller,
        "publicKeyMultibase": ed25519_public_key_to_multikey(ed25519_raw_public_key(public_key)),
    }
