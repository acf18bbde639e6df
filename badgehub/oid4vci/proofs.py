"""The wallet's key proof (OpenID4VCI 1.0 appendix F.1, ``proof_type: jwt``), checked without the database.

A proof is a JWT of type ``openid4vci-proof+jwt`` signed by the holder's key and naming that key in its header:
``kid`` as a ``did:key`` DID URL (Ed25519), or ``jwk`` (Ed25519 or P-256). Its payload carries ``aud`` (the
credential issuer), ``iat`` and the ``nonce`` we handed out. :func:`check_proof` returns the holder's DID —
the ``did:key`` of an Ed25519 key, the ``did:jwk`` of a P-256 key — and the nonce, which the caller consumes.
Every failure is a :class:`ProofRejected` with a reason a wallet developer can act on.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from badgehub.credentials.did import did_key_from_ed25519, ed25519_from_did_key, split_did_url
from badgehub.credentials.errors import CredentialError
from badgehub.credentials.keys import (
    PublicKey,
    ed25519_public_key_from_raw,
    ed25519_raw_public_key,
    public_jwk,
    public_key_from_jwk,
)

PROOF_TYP: Final = "openid4vci-proof+jwt"
PROOF_ALGORITHMS: Final = ("EdDSA", "ES256")
# A wallet's clock may be a little off; a proof made long ago or in the future is not fresh.
CLOCK_SKEW: Final = dt.timedelta(minutes=5)
MAX_PROOF_BYTES: Final = 8192


class ProofRejected(Exception):
    """The key proof is missing, malformed, badly signed, or not for us; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class CheckedProof:
    """What a valid proof establishes: who holds the key (a DID), and the nonce it answers."""

    holder_did: str
    nonce: str


def _segment(token: str, index: int) -> dict[str, Any]:
    try:
        part = token.split(".")[index]
        decoded = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError, UnicodeDecodeError):
        raise ProofRejected("the proof is not a compact JWT") from None
    if not isinstance(decoded, dict):
        raise ProofRejected("the proof is not a compact JWT")
    return decoded


def _did_jwk(jwk: Mapping[str, Any]) -> str:
    encoded = json.dumps(dict(jwk), separators=(",", ":"), sort_keys=True).encode("utf-8")
    return "did:jwk:" + base64.urlsafe_b64encode(encoded).decode("ascii").rstrip("=")


def _holder_key(header: Mapping[str, Any]) -> tuple[PublicKey, str]:
    kid, jwk = header.get("kid"), header.get("jwk")
    if (kid is None) == (jwk is None):
        raise ProofRejected("the proof header must name its key by exactly one of kid (a did:key) or jwk")
    try:
        if kid is not None:
            if not isinstance(kid, str) or not kid.startswith("did:key:"):
                raise ProofRejected("kid must be a did:key DID URL")
            named = ed25519_public_key_from_raw(ed25519_from_did_key(kid))
            return named, split_did_url(kid)[0]
        if not isinstance(jwk, Mapping):
            raise ProofRejected("jwk must be a JSON object")
        key = public_key_from_jwk(jwk)
    except CredentialError as exc:
        raise ProofRejected(f"the key of the proof is not usable: {exc}") from None
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key, did_key_from_ed25519(ed25519_raw_public_key(key))
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key, _did_jwk(public_jwk(key))
    raise ProofRejected("the proof key must be Ed25519 or P-256")


def check_proof(token: Any, *, audience: str, now: dt.datetime) -> CheckedProof:
    """Check one ``jwt`` key proof for the credential issuer ``audience`` at ``now`` (aware UTC).

    Returns the holder's DID and the proof's nonce (not yet checked against the ones handed out: that is the
    caller's, with the database). Raises :class:`ProofRejected` for anything else than a fresh proof of type
    ``openid4vci-proof+jwt``, signed with EdDSA or ES256 by the key its header names, for ``audience``.
    """
    if not isinstance(token, str) or not token or len(token) > MAX_PROOF_BYTES:
        raise ProofRejected("the proof must be a compact JWT string")
    header = _segment(token, 0)
    if header.get("typ") != PROOF_TYP:
        raise ProofRejected(f"the proof's typ must be {PROOF_TYP}")
    alg = header.get("alg")
    if alg not in PROOF_ALGORITHMS:
        raise ProofRejected(f"the proof's alg must be one of {', '.join(PROOF_ALGORITHMS)}")
    key, holder_did = _holder_key(header)
    if (alg == "EdDSA") != isinstance(key, ed25519.Ed25519PublicKey):
        raise ProofRejected("the proof's alg does not match its key")
    try:
        claims = jwt.decode(token, key=key, algorithms=[alg], audience=audience,
                            options={"require": ["aud", "iat", "nonce"], "verify_iat": False})
    except jwt.InvalidAudienceError:
        raise ProofRejected("the proof's aud is not this credential issuer") from None
    except jwt.InvalidSignatureError:
        raise ProofRejected("the proof is not signed by the key its header names") from None
    except jwt.PyJWTError as exc:
        raise ProofRejected(f"the proof was refused: {exc}") from None
    issued = claims["iat"]
    if not isinstance(issued, int | float) or isinstance(issued, bool):
        raise ProofRejected("the proof's iat must be a number")
    moment = dt.datetime.fromtimestamp(issued, dt.UTC)
    if not now - CLOCK_SKEW <= moment <= now + CLOCK_SKEW:
        raise ProofRejected("the proof's iat is not within five minutes of now")
    nonce = claims["nonce"]
    if not isinstance(nonce, str) or not nonce:
        raise ProofRejected("the proof's nonce must be a string")
    return CheckedProof(holder_did=holder_did, nonce=nonce)
