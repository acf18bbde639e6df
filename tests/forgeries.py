"""The forgery matrix: badges made by an attacker for every kind of issuer, with the verdict each must get.

A :class:`World` is a set of issuers with real keys and the documents they publish (DID documents, controller
documents, JWK sets), for a host given by the caller: the unit tests serve them offline (``StaticResolver``),
the functional tests from a local HTTPS server. :func:`forgeries` signs, with BadgeHub's own signer, one
badge per (issuer kind, proof format, attacker move), and a few genuine ones as controls; :func:`peer_calls`
and :func:`peer_forgeries` do the same with the independent JavaScript peer (``tests/interop/peer.mjs``), in
one ``batch`` call.

Every key is derived from a fixed seed, so that both signers sign with the same keys, and documents are built
once per module. Verdicts are the codes of :func:`badgehub.verification.verdicts.verdict_of`; no forgery may get
``valid`` or ``valid_with_warnings``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jwt import api_jws

from badgehub.credentials.data_integrity import (
    ED25519_SIGNATURE_2020,
    EDDSA_2022,
    EDDSA_RDFC_2022,
    proof_hash_data,
    sign_data_integrity,
)
from badgehub.credentials.did import did_key_from_ed25519
from badgehub.credentials.documents import AchievementDefinition, IssuerProfile, Recipient, build_credential
from badgehub.credentials.keys import (
    ed25519_private_key_from_seed,
    ed25519_raw_public_key,
    generate_rsa,
    multikey_verification_method,
    public_jwk,
)
from badgehub.credentials.multiformats import ed25519_public_key_to_multikey, multibase_encode_base58btc
from badgehub.credentials.vc_jwt import decode_vc_jwt, sign_vc_jwt

CREATED = "2026-03-01T10:00:00Z"
"""When every proof says it was made."""
COMPROMISED_SINCE = "2026-02-01T00:00:00Z"
"""When the compromised key was declared compromised: before :data:`CREATED`."""
RECIPIENT_EMAIL = "learner@example.org"
ACHIEVEMENT = AchievementDefinition(
    id="https://badges.example.org/achievements/forgery-1",
    name="Atelier de confiance",
    description="A badge that forgers would like to have",
    criteria_narrative="Be trusted.",
    achievement_type="Badge",
)
ED25519_2020_CONTEXT = "https://w3id.org/security/suites/ed25519-2020/v1"
VALID_VERDICTS = frozenset({"valid", "valid_with_warnings"})
SEEDS = ("victim", "victim-old", "victim-auth", "victim-compromised", "other", "attacker")


def seed_of(name: str) -> bytes:
    return hashlib.sha256(f"badgehub forgery matrix {name}".encode()).digest()


def ed_key(name: str) -> ed25519.Ed25519PrivateKey:
    return ed25519_private_key_from_seed(seed_of(name))


def multikey(name: str) -> str:
    return ed25519_public_key_to_multikey(ed25519_raw_public_key(ed_key(name).public_key()))


def did_key(name: str) -> str:
    return did_key_from_ed25519(ed25519_raw_public_key(ed_key(name).public_key()))


@cache
def rsa_key(name: str) -> rsa.RSAPrivateKey:
    """RSA keys are slow to make: one per name per process."""
    return generate_rsa()


def _b64(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def private_jwk(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> dict[str, str]:
    """The private JWK of a key, for the JavaScript peer to sign with."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raw = key.private_bytes_raw()
        x = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": base64.urlsafe_b64encode(x).rstrip(b"=").decode(),
                "d": base64.urlsafe_b64encode(raw).rstrip(b"=").decode()}
    numbers = key.private_numbers()
    public = numbers.public_numbers
    return {"kty": "RSA", "n": _b64(public.n), "e": _b64(public.e), "d": _b64(numbers.d), "p": _b64(numbers.p),
            "q": _b64(numbers.q), "dp": _b64(numbers.dmp1), "dq": _b64(numbers.dmq1), "qi": _b64(numbers.iqmp)}


@dataclass
class World:
    """The issuers of the matrix on ``host`` (``name`` or ``name:port``), and what they publish.

    * ``web``: a did:web issuer. Its DID document lists ``#key-1`` (Ed25519) and ``#jwt-1`` (RSA) for
      ``assertionMethod``, ``#auth-1`` for ``authentication`` only, and ``#old-1``, compromised since
      :data:`COMPROMISED_SINCE`. ``#key-0`` was rotated out: the document no longer lists it.
    * ``other``: another did:web issuer with its own real keys.
    * ``https``: an https issuer publishing a controller document (``#key-1``) and no JWK set.
    * ``bare``: an https issuer that publishes nothing (its id answers 404).
    * ``did_key``: a did:key issuer; ``urn``: a ``urn:uuid`` issuer.
    """

    host: str
    documents: dict[str, Any] = field(default_factory=dict)

    @property
    def did_host(self) -> str:
        return self.host.replace(":", "%3A")

    @property
    def origin(self) -> str:
        return f"https://{self.host}"

    @property
    def web(self) -> str:
        return f"did:web:{self.did_host}:issuers:victim"

    @property
    def other(self) -> str:
        return f"did:web:{self.did_host}:issuers:other"

    @property
    def https(self) -> str:
        return f"{self.origin}/issuers/1"

    @property
    def bare(self) -> str:
        return f"{self.origin}/issuers/bare"

    @property
    def did_key(self) -> str:
        return did_key("victim")

    urn: str = "urn:uuid:6f1c2a52-0c1e-4a8f-9a3e-2a7e53c5e0d1"


def build_world(host: str) -> World:
    """The issuers of the matrix on ``host`` and their documents (``{url: document}``)."""
    world = World(host)
    web, other = world.web, world.other
    jwt_1 = {"id": f"{web}#jwt-1", "type": "JsonWebKey", "controller": web,
             "publicKeyJwk": public_jwk(rsa_key("victim"))}
    compromised = multikey_verification_method(f"{web}#old-1", web, ed_key("victim-compromised").public_key())
    compromised["revoked"] = COMPROMISED_SINCE
    world.documents[f"{world.origin}/issuers/victim/did.json"] = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1",
                     "https://w3id.org/security/jwk/v1"],
        "id": web,
        "verificationMethod": [
            multikey_verification_method(f"{web}#key-1", web, ed_key("victim").public_key()),
            jwt_1,
            multikey_verification_method(f"{web}#auth-1", web, ed_key("victim-auth").public_key()),
            compromised,
        ],
        "assertionMethod": [f"{web}#key-1", f"{web}#jwt-1", f"{web}#old-1"],
        "authentication": [f"{web}#auth-1"],
    }
    world.documents[f"{world.origin}/issuers/other/did.json"] = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1",
                     "https://w3id.org/security/jwk/v1"],
        "id": other,
        "verificationMethod": [
            multikey_verification_method(f"{other}#key-1", other, ed_key("other").public_key()),
            {"id": f"{other}#jwt-1", "type": "JsonWebKey", "controller": other,
             "publicKeyJwk": public_jwk(rsa_key("other"))},
        ],
        "assertionMethod": [f"{other}#key-1", f"{other}#jwt-1"],
    }
    world.documents[world.https] = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": world.https,
        "verificationMethod": [
            multikey_verification_method(f"{world.https}#key-1", world.https, ed_key("victim").public_key())],
        "assertionMethod": [f"{world.https}#key-1"],
    }
    return world


def credential(issuer: str, number: int) -> dict[str, Any]:
    """An unsigned credential naming ``issuer``."""
    return build_credential(
        credential_id=f"urn:uuid:00000000-0000-4000-8000-{number:012d}",
        issuer=IssuerProfile(id=issuer, name="Victim Academy"),
        achievement=ACHIEVEMENT,
        recipient=Recipient(email=RECIPIENT_EMAIL, salt="forgery"),
        valid_from="2026-03-01T00:00:00Z",
    )


@dataclass(frozen=True)
class Plan:
    """One badge of the matrix: who it names, how it is signed, and the verdict it must get.

    ``proof`` is ``di`` (Data Integrity: ``suite`` is ``eddsa-rdfc-2022``, ``eddsa-2022`` or
    ``Ed25519Signature2020``) or ``jwt``. For ``di``: ``method`` is the verification method and ``key`` the
    name of the Ed25519 key that signs. For ``jwt``: ``kid`` (or None),
    ``key`` the name of the signing key (``ed:<name>`` for EdDSA, else RSA), ``embed`` writes the public key
    in the header.
    """

    name: str
    issuer: str
    proof: str
    key: str
    verdict: str
    method: str | None = None
    kid: str | None = None
    embed: bool = False
    suite: str = EDDSA_RDFC_2022


def plans(world: World) -> list[Plan]:
    """Every row of the matrix for ``world`` (forgeries first, then the genuine controls)."""
    web, other, https, bare, dkey, urn = world.web, world.other, world.https, world.bare, world.did_key, world.urn
    attacker = multikey("attacker")
    rows = [
        # did:web, an issuer whose document is reachable
        Plan("did:web di own key in fragment", web, "di", "attacker", "not_genuine", method=f"{web}#{attacker}"),
        Plan("did:web jwt own key in jwk header", web, "jwt", "attacker", "not_genuine", embed=True),
        Plan("did:web jwt fragment kid with jwk header", web, "jwt", "attacker", "not_genuine",
             kid=f"{web}#{attacker}", embed=True),
        Plan("did:web di other issuer's real key", web, "di", "other", "not_genuine", method=f"{other}#key-1"),
        Plan("did:web jwt other issuer's real key", web, "jwt", "other", "not_genuine", kid=f"{other}#jwt-1"),
        Plan("did:web di key not under assertionMethod", web, "di", "victim-auth", "not_genuine",
             method=f"{web}#auth-1"),
        Plan("did:web di key compromised before signing", web, "di", "victim-compromised", "not_genuine",
             method=f"{web}#old-1"),
        Plan("did:web di key rotated out", web, "di", "victim-old", "not_genuine", method=f"{web}#key-0"),
        # did:key
        Plan("did:key di another did:key", dkey, "di", "attacker", "not_genuine",
             method=f"{did_key('attacker')}#{attacker}"),
        Plan("did:key di own key in fragment", dkey, "di", "attacker", "unverifiable", method=f"{dkey}#{attacker}"),
        Plan("did:key jwt own key in jwk header", dkey, "jwt", "ed:attacker", "not_genuine", embed=True),
        Plan("did:key jwt another did:key kid", dkey, "jwt", "ed:attacker", "not_genuine",
             kid=f"{did_key('attacker')}#{attacker}"),
        Plan("did:key di other issuer's real key", dkey, "di", "other", "not_genuine", method=f"{other}#key-1"),
        # https, publishing a controller document
        Plan("https di own key in fragment", https, "di", "attacker", "not_genuine", method=f"{https}#{attacker}"),
        Plan("https di other issuer's real key", https, "di", "other", "not_genuine", method=f"{other}#key-1"),
        Plan("https jwt own key in jwk header", https, "jwt", "attacker", "issuer_unconfirmed", embed=True),
        # https, publishing nothing: the key can only be the credential's word
        Plan("https bare di own key in fragment", bare, "di", "attacker", "issuer_unconfirmed",
             method=f"{bare}#{attacker}"),
        Plan("https bare jwt own key in jwk header", bare, "jwt", "attacker", "issuer_unconfirmed", embed=True),
        # urn:uuid: no key can ever be tied to it
        Plan("urn:uuid di own key in fragment", urn, "di", "attacker", "issuer_unconfirmed",
             method=f"{urn}#{attacker}"),
        Plan("urn:uuid jwt own key in jwk header", urn, "jwt", "attacker", "issuer_unconfirmed", embed=True),
        Plan("urn:uuid di other issuer's real key", urn, "di", "other", "issuer_unconfirmed", method=f"{other}#key-1"),
        # the older Data Integrity suites go through the same key binding
        Plan("did:web eddsa-2022 own key in fragment", web, "di", "attacker", "not_genuine",
             method=f"{web}#{attacker}", suite=EDDSA_2022),
        Plan("did:web Ed25519Signature2020 own key in fragment", web, "di", "attacker", "not_genuine",
             method=f"{web}#{attacker}", suite=ED25519_SIGNATURE_2020),
        Plan("did:key Ed25519Signature2020 another did:key", dkey, "di", "attacker", "not_genuine",
             method=f"{did_key('attacker')}#{attacker}", suite=ED25519_SIGNATURE_2020),
        Plan("https bare Ed25519Signature2020 own key in fragment", bare, "di", "attacker", "issuer_unconfirmed",
             method=f"{bare}#{attacker}", suite=ED25519_SIGNATURE_2020),
        # genuine controls
        Plan("did:web eddsa-2022 genuine", web, "di", "victim", "valid", method=f"{web}#key-1", suite=EDDSA_2022),
        Plan("did:web Ed25519Signature2020 genuine", web, "di", "victim", "valid", method=f"{web}#key-1",
             suite=ED25519_SIGNATURE_2020),
        Plan("did:web di genuine", web, "di", "victim", "valid", method=f"{web}#key-1"),
        Plan("did:web jwt genuine", web, "jwt", "victim", "valid", kid=f"{web}#jwt-1"),
        Plan("did:key di genuine", dkey, "di", "victim", "valid", method=f"{dkey}#{multikey('victim')}"),
        Plan("https di genuine", https, "di", "victim", "valid", method=f"{https}#key-1"),
    ]
    return rows


@dataclass(frozen=True)
class Case:
    """A signed badge of the matrix: ``data`` is a credential object (Data Integrity) or a compact JWT."""

    plan: Plan
    data: dict[str, Any] | str

    @property
    def name(self) -> str:
        return self.plan.name

    @property
    def verdict(self) -> str:
        return self.plan.verdict


def jwt_payload(document: dict[str, Any]) -> dict[str, Any]:
    """The VC-JWT payload of ``document`` as BadgeHub writes it (claims derived from the credential)."""
    payload = decode_vc_jwt(sign_vc_jwt(document, rsa_key("attacker"), "k")).payload
    assert isinstance(payload, dict)
    return payload


def _signing_key(name: str) -> rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey:
    return ed_key(name[3:]) if name.startswith("ed:") else rsa_key(name)


def sign_older_suite(document: dict[str, Any], key: ed25519.Ed25519PrivateKey, method: str,
                     suite: str) -> dict[str, Any]:
    """``document`` signed with ``eddsa-2022`` or ``Ed25519Signature2020``, which BadgeHub verifies but never
    signs: the same hashing as eddsa-rdfc-2022 (:func:`proof_hash_data`), another proof shape."""
    if suite == ED25519_SIGNATURE_2020:
        document = {**document, "@context": [*document["@context"], ED25519_2020_CONTEXT]}
        proof: dict[str, Any] = {"type": ED25519_SIGNATURE_2020}
    else:
        proof = {"type": "DataIntegrityProof", "cryptosuite": suite}
    proof.update({"created": CREATED, "verificationMethod": method, "proofPurpose": "assertionMethod"})
    proof["proofValue"] = multibase_encode_base58btc(key.sign(proof_hash_data(document, proof)))
    return {**document, "proof": [proof]}


def forgeries(world: World) -> list[Case]:
    """Every row of :func:`plans`, signed with BadgeHub's own signer (PyJWT for the JWT header forgeries)."""
    cases = []
    for number, plan in enumerate(plans(world), start=1):
        document = credential(plan.issuer, number)
        if plan.proof == "di":
            assert plan.method is not None
            if plan.suite != EDDSA_RDFC_2022:
                cases.append(Case(plan, sign_older_suite(document, ed_key(plan.key), plan.method, plan.suite)))
                continue
            cases.append(Case(plan, sign_data_integrity(document, ed_key(plan.key), plan.method, CREATED)))
            continue
        key = _signing_key(plan.key)
        alg = "EdDSA" if plan.key.startswith("ed:") else "RS256"
        headers: dict[str, Any] = {"typ": None}
        if plan.kid is not None:
            headers["kid"] = plan.kid
        if plan.embed:
            headers["jwk"] = public_jwk(key.public_key())
        body = json.dumps(jwt_payload(document), separators=(",", ":")).encode()
        cases.append(Case(plan, api_jws.PyJWS().encode(body, key, algorithm=alg, headers=headers)))
    return cases


def peer_plans(world: World) -> list[tuple[int, Plan]]:
    """The rows the JavaScript peer signs (it signs eddsa-rdfc-2022 and JWTs), with their numbers."""
    return [(number, plan) for number, plan in enumerate(plans(world), start=1) if plan.suite == EDDSA_RDFC_2022]


def peer_calls(world: World) -> list[dict[str, Any]]:
    """The JavaScript peer's ``batch`` calls that sign every row of :func:`peer_plans`, in order."""
    calls = []
    for number, plan in peer_plans(world):
        document = credential(plan.issuer, number)
        if plan.proof == "di":
            calls.append({"op": "signDataIntegrity", "document": document, "verificationMethod": plan.method,
                          "controller": plan.issuer, "created": CREATED, "seedHex": seed_of(plan.key).hex()})
        else:
            alg = "EdDSA" if plan.key.startswith("ed:") else "RS256"
            calls.append({"op": "signJwt", "payload": jwt_payload(document), "alg": alg, "kid": plan.kid,
                          "privateJwk": private_jwk(_signing_key(plan.key)), "embedJwk": plan.embed})
    return calls


def peer_forgeries(world: World, results: list[dict[str, Any]]) -> list[Case]:
    """The cases of :func:`peer_plans` from the peer's answers to :func:`peer_calls`."""
    cases = []
    for (_number, plan), result in zip(peer_plans(world), results, strict=True):
        cases.append(Case(plan, result["document"] if plan.proof == "di" else result["token"]))
    return cases
