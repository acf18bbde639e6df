"""An endorsement BadgeHub makes is verified by the independent JavaScript stack (Digital Bazaar's
eddsa-rdfc-2022 with AssertionProofPurpose, and jose for the VC-JWT) with the endorser's published DID document,
both as served at /endorsements/<id>.json and as embedded in the published Achievement; a changed comment is
refused by it and by our pipeline."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient

from badgehub.achievements.service import public_achievement
from badgehub.db import utcnow
from badgehub.endorsements import service as endorsements
from badgehub.extensions import db
from badgehub.verification.pipeline import verify
from badgehub.verification.platform import build_resolver
from tests.factories import build_world

from .conftest import JsPeer
from .test_published_identity import did_resolution, js_verify

pytestmark = pytest.mark.interop


@pytest.fixture
def endorsed(app: Flask) -> dict[str, str]:
    """The library (B) endorses the workshop's (A's) badge; committed."""
    with app.test_request_context():
        world = build_world()
        made = endorsements.endorse_achievement(world.b, world.owner_b, public_achievement(world.repair.public_id),
                                                comment="Atelier sérieux : « deux roues réparées ».",
                                                config=current_app.config)
        db.session.commit()
        return {"endorser": world.b.slug, "achievement": world.repair.public_id, "id": made.public_id}


def _header(token: str) -> dict[str, Any]:
    segment = token.split(".")[0]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return decoded


def test_javascript_verifies_our_endorsement_as_served_and_as_embedded(
        js_peer: JsPeer, client: FlaskClient, endorsed: dict[str, str]) -> None:
    did_document = client.get(f"/issuers/{endorsed['endorser']}/did.json").get_json()
    served = json.loads(client.get(f"/endorsements/{endorsed['id']}.json").data)
    result = js_verify(served, did_resolution(did_document))
    assert result["verified"], result["errors"]
    achievement = client.get(f"/achievements/{endorsed['achievement']}",
                             headers={"Accept": "application/ld+json"}).get_json()
    [embedded] = achievement["endorsement"]
    assert embedded == served
    assert js_verify(embedded, did_resolution(did_document))["verified"]


def test_a_changed_embedded_endorsement_is_refused_by_javascript_and_by_our_pipeline(
        js_peer: JsPeer, app: Flask, client: FlaskClient, endorsed: dict[str, str]) -> None:
    did_document = client.get(f"/issuers/{endorsed['endorser']}/did.json").get_json()
    achievement = client.get(f"/achievements/{endorsed['achievement']}",
                             headers={"Accept": "application/ld+json"}).get_json()
    tampered = achievement["endorsement"][0]
    tampered["credentialSubject"]["endorsementComment"] = "Le meilleur atelier du monde."
    assert not js_verify(tampered, did_resolution(did_document))["verified"]
    with app.app_context():
        report = verify(tampered, build_resolver(app), utcnow())
    assert not report.verified
    assert report.check("proof").status.value == "failed"


def test_jose_verifies_the_vc_jwt_of_our_endorsement(js_peer: JsPeer, client: FlaskClient,
                                                     endorsed: dict[str, str]) -> None:
    token = client.get(f"/endorsements/{endorsed['id']}.jwt").get_data(as_text=True)
    did_document = client.get(f"/issuers/{endorsed['endorser']}/did.json").get_json()
    method = next(m for m in did_document["verificationMethod"] if m["id"] == _header(token)["kid"])
    result = js_peer.call("verifyJwt", token=token, jwk=method["publicKeyJwk"], alg="RS256")
    assert result["verified"], result
    assert result["payload"]["iss"] == did_document["id"]
    assert "EndorsementCredential" in result["payload"]["type"]


@pytest.fixture
def person_endorsed(app: Flask) -> dict[str, str]:
    """Sam, who belongs to no organisation, endorses Léa's credential in their own name through her link."""
    from badgehub.accounts.service import create_user
    from badgehub.endorsements.personal_issuers import personal_issuer_of
    from badgehub.issuing import service as issuing

    with app.test_request_context():
        world = build_world()
        credential = issuing.issue_credential(
            organisation=world.a, achievement=world.repair, recipient_email="lea@example.net", recipient_name="Léa",
            actor_id=None, source="single", config=current_app.config)
        lea = create_user("lea@example.net", name="Léa", verified=True)
        sam = create_user("sam@example.net", name="Sam Martin", verified=True)
        _invitation, token = endorsements.invite(credential, lea)
        made = endorsements.endorse_in_own_name(token, sam, display_name="Sam M.",
                                                comment="Je l'ai vue animer trois ateliers.",
                                                config=current_app.config)
        db.session.commit()
        return {"endorser": personal_issuer_of(sam).slug, "id": made.public_id}


def test_javascript_verifies_an_endorsement_a_person_signed_in_their_own_name(
        js_peer: JsPeer, app: Flask, client: FlaskClient, person_endorsed: dict[str, str]) -> None:
    did_document = client.get(f"/issuers/{person_endorsed['endorser']}/did.json").get_json()
    served = json.loads(client.get(f"/endorsements/{person_endorsed['id']}.json").data)
    assert served["issuer"]["id"] == did_document["id"] and served["issuer"]["name"] == "Sam M."
    result = js_verify(served, did_resolution(did_document))
    assert result["verified"], result["errors"]
    token = client.get(f"/endorsements/{person_endorsed['id']}.jwt").get_data(as_text=True)
    method = next(m for m in did_document["verificationMethod"] if m["id"] == _header(token)["kid"])
    jwt = js_peer.call("verifyJwt", token=token, jwk=method["publicKeyJwk"], alg="RS256")
    assert jwt["verified"], jwt
    assert jwt["payload"]["iss"] == did_document["id"]
    with app.app_context():
        assert verify(served, build_resolver(app), utcnow()).verified  # our pipeline, resolving did:web locally
    served["credentialSubject"]["endorsementComment"] = "Je ne l'ai jamais vue."
    assert not js_verify(served, did_resolution(did_document))["verified"]
