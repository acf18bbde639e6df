"""A credential issued by the issuing service, fetched from /c/<id>.json and /c/<id>.jwt, is verified by the
independent JavaScript stack: the Data Integrity proof with the DID document served at
/issuers/<slug>/did.json (Digital Bazaar's eddsa-rdfc-2022 and AssertionProofPurpose), the VC-JWT with jose
and the key published in the same DID document."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient

from badgehub.achievements.service import public_achievement
from badgehub.extensions import db
from badgehub.issuing import service as issuing
from tests.factories import build_world

from .conftest import JsPeer
from .test_published_identity import did_resolution, js_verify

pytestmark = pytest.mark.interop


@pytest.fixture
def issued(app: Flask) -> tuple[str, str]:
    """(organisation slug, credential public id), committed."""
    with app.test_request_context():
        world = build_world()
        achievement = public_achievement(world.repair.public_id)
        credential = issuing.issue_credential(
            organisation=achievement.organisation, achievement=achievement, recipient_email="lea@example.net",
            recipient_name="Léa", actor_id=None, source="cli", evidence_url="https://velo.example.org/photo",
            narrative="Deux roues réparées, sans aide.", result="Autonome", config=current_app.config)
        db.session.commit()
        return world.a.slug, credential.public_id


def _header(token: str) -> dict[str, Any]:
    segment = token.split(".")[0]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return decoded


def test_javascript_verifies_the_data_integrity_proof_of_an_issued_credential(
        js_peer: JsPeer, client: FlaskClient, issued: tuple[str, str]) -> None:
    slug, public_id = issued
    document = json.loads(client.get(f"/c/{public_id}.json").data)
    did_document = client.get(f"/issuers/{slug}/did.json").get_json()
    result = js_verify(document, did_resolution(did_document))
    assert result["verified"], result["errors"]
    assert document["proof"][0]["verificationMethod"] in result["loaded"]


def test_javascript_refuses_the_issued_credential_once_changed(
        js_peer: JsPeer, client: FlaskClient, issued: tuple[str, str]) -> None:
    slug, public_id = issued
    document = json.loads(client.get(f"/c/{public_id}.json").data)
    document["credentialSubject"]["result"][0]["value"] = "Expert"
    did_document = client.get(f"/issuers/{slug}/did.json").get_json()
    assert not js_verify(document, did_resolution(did_document))["verified"]


def test_jose_verifies_the_vc_jwt_of_an_issued_credential(
        js_peer: JsPeer, client: FlaskClient, issued: tuple[str, str]) -> None:
    slug, public_id = issued
    token = client.get(f"/c/{public_id}.jwt").get_data(as_text=True)
    kid = _header(token)["kid"]
    did_document = client.get(f"/issuers/{slug}/did.json").get_json()
    method = next(m for m in did_document["verificationMethod"] if m["id"] == kid)
    result = js_peer.call("verifyJwt", token=token, jwk=method["publicKeyJwk"], alg="RS256")
    assert result["verified"], result
    assert result["payload"]["iss"] == did_document["id"]
    assert result["payload"]["jti"] == json.loads(client.get(f"/c/{public_id}.json").data)["id"]


def test_jose_finds_the_key_of_an_issued_vc_jwt_by_kid_in_both_jwk_sets(
        js_peer: JsPeer, client: FlaskClient, issued: tuple[str, str]) -> None:
    # A JOSE library picks the key whose kid is the header's: both JWK sets must publish that very kid.
    slug, public_id = issued
    token = client.get(f"/c/{public_id}.jwt").get_data(as_text=True)
    for url in (f"/issuers/{slug}/jwks.json", "/.well-known/jwks.json"):
        jwks = client.get(url).get_json()
        result = js_peer.call("verifyJwtWithKeySet", token=token, jwks=jwks, alg="RS256")
        assert result == {"verified": True, "kid": _header(token)["kid"]}, (url, result)
    # And a set without that kid is refused by jose: the match is by kid, not by trying every key.
    renamed = {"keys": [{**jwk, "kid": jwk["kid"] + "-other"}
                        for jwk in client.get(f"/issuers/{slug}/jwks.json").get_json()["keys"]]}
    assert js_peer.call("verifyJwtWithKeySet", token=token, jwks=renamed, alg="RS256")["verified"] is False
