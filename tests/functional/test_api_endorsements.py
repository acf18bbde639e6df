"""/api/v1/endorsements: an organisation's systems endorse, list, withdraw and choose what is shown; every answer
is documented in the OpenAPI document, and another organisation's endorsement is 404."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from flask import current_app
from flask.testing import FlaskClient

from badgehub.db import utcnow
from badgehub.verification import fetch as fetch_module
from badgehub.verification.pipeline import verify
from badgehub.verification.platform import build_resolver
from tests.functional.api_helpers import build_api_world, call


@pytest.fixture(autouse=True)
def no_name_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dns(host: str, port: int) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "no name resolution in tests")

    monkeypatch.setattr(fetch_module, "resolve_addresses", no_dns)


@pytest.fixture
def world(snapshot: Any) -> dict[str, Any]:
    return snapshot(build_api_world)


def test_an_organisation_endorses_a_badge_and_the_document_verifies(client: FlaskClient,
                                                                     world: dict[str, Any]) -> None:
    answer = call(client, "POST", "/endorsements", world["token_b"],
                  json={"achievement": world["repair"], "comment": "Atelier sérieux.",
                        "evidence_url": "https://biblio.example.org/visite"})
    assert answer.status_code == 201, answer.get_json()
    made = answer.get_json()
    assert made["kind"] == "achievement" and made["endorser"]["slug"] == world["b"]
    assert made["display"] == "shown" and answer.headers["Location"].endswith(made["id"])
    with client.application.app_context():
        report = verify(made["document"], build_resolver(client.application), utcnow())
    assert report.verified, [check.code for check in report.failed]
    assert json.loads(client.get(f"/endorsements/{made['id']}.json").data) == made["document"]
    given = call(client, "GET", "/endorsements?direction=given", world["token_b"]).get_json()
    assert [item["id"] for item in given["items"]] == [made["id"]]
    received = call(client, "GET", "/endorsements?direction=received", world["token_a"]).get_json()
    assert [item["id"] for item in received["items"]] == [made["id"]]


def test_the_endorsed_organisation_declines_and_the_endorser_withdraws(client: FlaskClient,
                                                                       world: dict[str, Any]) -> None:
    made = call(client, "POST", "/endorsements", world["token_b"],
                json={"organisation": world["a"], "comment": "Partenaire fiable."}).get_json()
    assert made["kind"] == "profile"
    # The endorser cannot choose what A shows, and A cannot withdraw B's word: both are 404.
    assert call(client, "POST", f"/endorsements/{made['id']}/display", world["token_b"],
                json={"shown": False}).status_code == 404
    assert call(client, "POST", f"/endorsements/{made['id']}/withdraw", world["token_a"], json={}).status_code == 404
    declined = call(client, "POST", f"/endorsements/{made['id']}/display", world["token_a"], json={"shown": False})
    assert declined.get_json()["display"] == "declined"
    withdrawn = call(client, "POST", f"/endorsements/{made['id']}/withdraw", world["token_b"], json={})
    assert withdrawn.get_json()["withdrawn_at"] is not None
    assert call(client, "POST", f"/endorsements/{made['id']}/withdraw", world["token_b"],
                json={}).status_code == 409


def test_another_organisation_s_endorsement_is_404(client: FlaskClient, setup: Any, world: dict[str, Any]) -> None:
    made = call(client, "POST", "/endorsements", world["token_b"],
                json={"achievement": world["repair"], "comment": "Bien."}).get_json()

    def third_party() -> str:
        from badgehub.accounts.service import create_user
        from badgehub.organisations.service import ProfileFields, create_organisation
        from badgehub.tokens import service as tokens

        owner = create_user("c@example.org", name="C", verified=True)
        organisation = create_organisation(owner, ProfileFields(name="Club C", type="association",
                                                                sector="community"), config=current_app.config)
        return tokens.create_token(organisation, owner, name="C", scopes=tokens.SCOPES)[1]

    token_c = setup(third_party)
    assert call(client, "GET", f"/endorsements/{made['id']}", token_c).status_code == 404
    assert call(client, "GET", f"/endorsements/{made['id']}", world["token_a"]).status_code == 200
    assert call(client, "GET", "/endorsements/zzzzzzzzzzzz", world["token_a"]).status_code == 404


def test_bad_bodies_and_missing_scopes_are_refused(client: FlaskClient, world: dict[str, Any]) -> None:
    answer = call(client, "POST", "/endorsements", world["token_b"],
                  json={"achievement": world["repair"], "comment": "Oui.", "colour": "red"})
    assert answer.status_code == 422
    assert set(answer.get_json()["error"]["details"]["fields"]) == {"colour"}
    answer = call(client, "POST", "/endorsements", world["token_b"],
                  json={"achievement": world["repair"], "comment": " ", "evidence_url": "javascript:x"})
    assert answer.status_code == 422
    assert set(answer.get_json()["error"]["details"]["fields"]) == {"comment", "evidence_url"}
    assert call(client, "POST", "/endorsements", world["token_b"],
                json={"achievement": world["reading"], "comment": "Moi."}).status_code == 409
    assert call(client, "POST", "/endorsements", world["token_b"],
                json={"comment": "Rien."}).status_code == 422
    assert call(client, "GET", "/endorsements", world["read_a"]).status_code == 403
    assert call(client, "GET", "/endorsements?direction=sideways", world["token_a"]).status_code == 400
