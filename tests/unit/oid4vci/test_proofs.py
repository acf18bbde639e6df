"""The wallet's key proof, checked without a database: who holds the key, and every way a proof is refused."""

from __future__ import annotations

import base64
import datetime as dt
import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from badgehub.credentials.did import did_key_from_ed25519
from badgehub.credentials.keys import ed25519_raw_public_key, generate_rsa, public_jwk
from badgehub.oid4vci.proofs import ProofRejected, check_proof

AUD = "https://badges.example.org"
NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
ED = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
DID = did_key_from_ed25519(ed25519_raw_public_key(ED))
KID = f"{DID}#{DID.removeprefix('did:key:')}"


def proof(key=ED, *, alg="EdDSA", header=None, **claims):
    body = {"aud": AUD, "iat": int(NOW.timestamp()), "nonce": "n-1", **claims}
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm=alg,
                      headers=header if header is not None else {"typ": "openid4vci-proof+jwt", "kid": KID})


def test_a_did_key_proof_names_its_holder_and_nonce():
    checked = check_proof(proof(), audience=AUD, now=NOW)
    assert (checked.holder_did, checked.nonce) == (DID, "n-1")


def test_an_ed25519_jwk_gives_the_same_did_key():
    header = {"typ": "openid4vci-proof+jwt", "jwk": public_jwk(ED)}
    assert check_proof(proof(header=header), audience=AUD, now=NOW).holder_did == DID


def test_a_p256_jwk_gives_a_did_jwk_of_that_key():
    key = ec.generate_private_key(ec.SECP256R1())
    header = {"typ": "openid4vci-proof+jwt", "jwk": public_jwk(key)}
    holder = check_proof(proof(key, alg="ES256", header=header), audience=AUD, now=NOW).holder_did
    encoded = holder.removeprefix("did:jwk:")
    assert json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))) == public_jwk(key)


@pytest.mark.parametrize(("token", "reason"), [
    (lambda: "not a jwt", "compact JWT"),
    (lambda: proof(header={"typ": "JWT", "kid": KID}), "typ"),
    (lambda: proof(ed25519.Ed25519PrivateKey.generate()), "not signed by the key"),
    (lambda: proof(aud="https://other.example"), "aud"),
    (lambda: proof(iat=int((NOW + dt.timedelta(minutes=10)).timestamp())), "iat"),
    (lambda: proof(iat=int((NOW - dt.timedelta(minutes=10)).timestamp())), "iat"),
    (lambda: proof(nonce=None), "nonce"),
    (lambda: proof(header={"typ": "openid4vci-proof+jwt"}), "exactly one"),
    (lambda: proof(header={"typ": "openid4vci-proof+jwt", "kid": "did:web:example.org#key-1"}), "did:key"),
    (lambda: proof(generate_rsa(), alg="RS256", header={"typ": "openid4vci-proof+jwt",
                                                        "jwk": public_jwk(generate_rsa())}), "alg"),
])
def test_a_bad_proof_is_refused_with_its_reason(token, reason):
    with pytest.raises(ProofRejected) as refused:
        check_proof(token(), audience=AUD, now=NOW)
    assert reason in refused.value.reason
