"""Fixtures for the verification tests: the shared examples, a fixed clock, no network, and issuers
(did:key, did:web, HTTPS) with real keys whose public documents are served offline."""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from PIL import Image

from badgehub.credentials.data_integrity import sign_data_integrity
from badgehub.credentials.did import did_key_from_ed25519
from badgehub.credentials.documents import (
    AchievementDefinition,
    IssuerProfile,
    Recipient,
    build_credential,
)
from badgehub.credentials.keys import (
    ed25519_raw_public_key,
    generate_ed25519,
    generate_rsa,
    multikey_verification_method,
    public_jwk,
)
from badgehub.credentials.status_list import build_status_list_credential, new_status_list, set_bit
from badgehub.credentials.vc_jwt import sign_vc_jwt
from badgehub.verification.resolver import ChainResolver, LocalResolver, StaticResolver

REPO_ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = REPO_ROOT.parent / "shared" / "ob3-examples"
BITSTRING_URL = (
    "https://raw.githubusercontent.com/1EdTech/digital-credentials-public-validator/refs/heads/main/"
    "inspector-vc/src/test/resources/ob30/bit-string-list/testlist"
)
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CREATED = "2026-03-01T10:00:00Z"


@pytest.fixture
def examples_dir() -> Path:
    """The shared examples folder; the test is skipped when it is absent."""
    if not EXAMPLES.is_dir():
        pytest.skip(f"shared example credentials not found at {EXAMPLES}")
    return EXAMPLES


@pytest.fixture
def example_bytes(examples_dir: Path) -> Callable[[str], bytes]:
    def read(name: str) -> bytes:
        return (examples_dir / name).read_bytes()

    return read


@pytest.fixture
def example_json(examples_dir: Path) -> Callable[[str], Any]:
    def load(name: str) -> Any:
        return json.loads((examples_dir / name).read_text(encoding="utf-8"))

    return load


@pytest.fixture
def example_documents(example_json: Callable[[str], Any]) -> dict[str, object]:
    """The offline documents the examples refer to: the bitstring list of ob3-v2-bitstring-revoked.json."""
    return {BITSTRING_URL: example_json("bitstring-status-list-credential.json")}


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Verification must never open a connection: every attempt fails the test loudly."""

    def refuse(*args: object, **kwargs: object) -> Any:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield


def png_image() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (8, 8), (10, 120, 200, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


SVG_IMAGE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4"/></svg>\n'
)


@dataclass
class Issuer:
    """An issuer with real keys: its id, the verification method ids, and the public documents it
    serves (DID document, JWK set, status lists) for a StaticResolver."""

    id: str
    ed_key: ed25519.Ed25519PrivateKey
    vm_id: str
    rsa_key: rsa.RSAPrivateKey
    jwt_kid: str
    documents: dict[str, object] = field(default_factory=dict)
    name: str = "Médiathèque"

    @property
    def profile(self) -> IssuerProfile:
        return IssuerProfile(id=self.id, name=self.name)

    def sign(self, document: dict[str, Any], vm_id: str | None = None, key: Any = None) -> dict[str, Any]:
        return sign_data_integrity(document, key or self.ed_key, vm_id or self.vm_id, CREATED)

    def sign_jwt(self, document: dict[str, Any], kid: str | None = None) -> str:
        return sign_vc_jwt(document, self.rsa_key, kid or self.jwt_kid, "RS256")

    def resolver(self, *extra: dict[str, object]) -> ChainResolver:
        documents: dict[str, object] = dict(self.documents)
        for mapping in extra:
            documents.update(mapping)
        return ChainResolver(StaticResolver(documents), LocalResolver())

    def publish_status_list(
        self, url: str, revoked: tuple[int, ...] = (), purpose: str = "revocation", signer: Issuer | None = None
    ) -> dict[str, Any]:
        bits = new_status_list()
        for index in revoked:
            bits = set_bit(bits, index)
        owner = signer or self
        unsigned = build_status_list_credential(url, owner.id, purpose, bits, "2026-01-01T00:00:00Z")
        signed = owner.sign(unsigned)
        self.documents[url] = signed
        return signed


KeyPair = tuple[ed25519.Ed25519PrivateKey, rsa.RSAPrivateKey]


def new_keys() -> KeyPair:
    return generate_ed25519(), generate_rsa()


def make_did_web_issuer(keys: KeyPair, host: str = "badges.example.org", slug: str = "mairie") -> Issuer:
    did = f"did:web:{host}:issuers:{slug}"
    ed_key, rsa_key = keys
    vm_id, jwt_kid = f"{did}#key-1", f"{did}#jwt-1"
    did_document = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [
            multikey_verification_method(vm_id, did, ed_key.public_key()),
            {"id": jwt_kid, "type": "JsonWebKey", "controller": did, "publicKeyJwk": public_jwk(rsa_key)},
        ],
        "assertionMethod": [vm_id, jwt_kid],
    }
    issuer = Issuer(did, ed_key, vm_id, rsa_key, jwt_kid)
    issuer.documents[f"https://{host}/issuers/{slug}/did.json"] = did_document
    return issuer


def make_did_key_issuer(keys: KeyPair) -> Issuer:
    ed_key, rsa_key = keys
    did = did_key_from_ed25519(ed25519_raw_public_key(ed_key.public_key()))
    msid = did.removeprefix("did:key:")
    return Issuer(did, ed_key, f"{did}#{msid}", rsa_key, f"{did}#{msid}")


def make_https_issuer(keys: KeyPair, origin: str = "https://academy.example.net") -> Issuer:
    """An HTTPS issuer publishing a controller document (Multikey) and a JWK set at its origin."""
    issuer_id = f"{origin}/issuers/1"
    ed_key, rsa_key = keys
    vm_id = f"{issuer_id}#key-1"
    jwks_url = f"{origin}/.well-known/jwks.json"
    issuer = Issuer(issuer_id, ed_key, vm_id, rsa_key, f"{jwks_url}#rsa-1")
    issuer.documents[issuer_id] = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": issuer_id,
        "verificationMethod": [multikey_verification_method(vm_id, issuer_id, ed_key.public_key())],
        "assertionMethod": [vm_id],
    }
    issuer.documents[jwks_url] = {"keys": [public_jwk(rsa_key, kid="rsa-1")]}
    return issuer


@pytest.fixture(scope="session")
def key_pairs() -> list[KeyPair]:
    """Keys generated once per session (RSA generation is slow); issuers are rebuilt for every test."""
    return [new_keys() for _ in range(4)]


@pytest.fixture
def did_web_issuer(key_pairs: list[KeyPair]) -> Issuer:
    return make_did_web_issuer(key_pairs[0])


@pytest.fixture
def did_key_issuer(key_pairs: list[KeyPair]) -> Issuer:
    return make_did_key_issuer(key_pairs[1])


@pytest.fixture
def https_issuer(key_pairs: list[KeyPair]) -> Issuer:
    return make_https_issuer(key_pairs[2])


@pytest.fixture
def stranger(key_pairs: list[KeyPair]) -> Issuer:
    """Another party with its own did:key (an endorser, or an impostor)."""
    return make_did_key_issuer(key_pairs[3])


ACHIEVEMENT = AchievementDefinition(
    id="https://badges.example.org/achievements/num-1",
    name="Atelier numérique",
    description="Digital workshop",
    criteria_narrative="Attend the three sessions.",
    achievement_type="Badge",
)
RECIPIENT_EMAIL = "Learner@Example.org"


def credential_for(owner: Issuer, **overrides: Any) -> dict[str, Any]:
    """An unsigned credential from ``owner`` (overrides go to build_credential)."""
    arguments: dict[str, Any] = {
        "credential_id": "urn:uuid:5c0a4c2e-7d41-4b8e-9a55-0b7f7c1d2e3f",
        "issuer": owner.profile,
        "achievement": ACHIEVEMENT,
        "recipient": Recipient(email=RECIPIENT_EMAIL, salt="pepper-1"),
        "valid_from": "2026-03-01T00:00:00Z",
    }
    arguments.update(overrides)
    return build_credential(**arguments)


@pytest.fixture
def make_credential() -> Callable[..., dict[str, Any]]:
    """``make_credential(issuer, **build_credential_overrides)`` → an unsigned credential."""
    return credential_for


@pytest.fixture
def png_bytes() -> bytes:
    return png_image()


@pytest.fixture
def svg_bytes() -> bytes:
    return SVG_IMAGE
