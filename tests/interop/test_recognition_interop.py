"""Credentials awarded through recognition requests verify in the independent JavaScript stack (Digital Bazaar's
eddsa-rdfc-2022 with the DID document served at /issuers/<slug>/did.json): an accepted request, whose evidence
lists the learner's links and files, and a self-declared badge, whose achievement type is the ``ext:SelfDeclared``
extension; changing that type is detected, by the JavaScript verifier and by our pipeline."""

from __future__ import annotations

import json

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient

from badgehub.accounts.service import create_user
from badgehub.credentials.values import SELF_DECLARED_TYPE
from badgehub.db import utcnow
from badgehub.extensions import db
from badgehub.recognition import badges
from badgehub.recognition import service as recognition
from badgehub.recognition.service import RequestInput, Upload
from badgehub.verification.pipeline import verify
from badgehub.verification.platform import build_resolver
from tests.factories import build_world, png

from .conftest import JsPeer
from .test_published_identity import did_resolution, js_verify

pytestmark = pytest.mark.interop


@pytest.fixture
def awarded(app: Flask) -> dict[str, str]:
    """An accepted request (the repair badge) and a self-declared badge received (the workshop one); committed."""
    with app.test_request_context():
        world = build_world()
        lea = create_user("lea@example.net", name="Léa", verified=True)
        asked = recognition.submit(lea, world.a, RequestInput(
            text="Vingt vélos réparés.", links=["https://velo.example.org/photos"],
            files=[Upload("atelier.png", png())]), achievement=world.repair, settings=current_app.config).request
        accepted = recognition.accept(asked, world.owner_a, settings=current_app.config).credential
        badges.set_self_declared(world.workshop, world.owner_a, True)
        declared = recognition.submit(lea, world.a, RequestInput(text="J'ai animé l'atelier du samedi."),
                                      achievement=world.workshop, settings=current_app.config).credential
        assert accepted is not None and declared is not None
        db.session.commit()
        return {"slug": world.a.slug, "accepted": accepted.public_id, "declared": declared.public_id}


@pytest.mark.parametrize("which", ["accepted", "declared"])
def test_javascript_verifies_credentials_awarded_through_requests(js_peer: JsPeer, client: FlaskClient,
                                                                  awarded: dict[str, str], which: str) -> None:
    document = json.loads(client.get(f"/c/{awarded[which]}.json").data)
    did_document = client.get(f"/issuers/{awarded['slug']}/did.json").get_json()
    result = js_verify(document, did_resolution(did_document))
    assert result["verified"], result["errors"]
    kind = document["credentialSubject"]["achievement"]["achievementType"]
    assert (kind == SELF_DECLARED_TYPE) == (which == "declared")


def test_a_self_declared_badge_passed_off_as_assessed_is_refused(js_peer: JsPeer, app: Flask, client: FlaskClient,
                                                                 awarded: dict[str, str]) -> None:
    document = json.loads(client.get(f"/c/{awarded['declared']}.json").data)
    document["credentialSubject"]["achievement"]["achievementType"] = "Badge"
    did_document = client.get(f"/issuers/{awarded['slug']}/did.json").get_json()
    assert not js_verify(document, did_resolution(did_document))["verified"]
    with app.app_context():
        report = verify(document, build_resolver(app), utcnow())
    assert not report.verified and report.check("proof").status.value == "failed"
