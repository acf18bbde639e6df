"""/api/v1/requests: an organisation's systems list the recognition requests made to it, read one with its evidence,
download a file, and accept, ask for more or decline; every answer is documented in the OpenAPI document, another
organisation's request is 404, and a token without the scope is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import current_app
from flask.testing import FlaskClient

from badgehub.accounts.models import User
from badgehub.accounts.service import create_user
from badgehub.extensions import db
from badgehub.organisations.models import Organisation
from badgehub.recognition import service as recognition
from badgehub.recognition.service import RequestInput, Upload
from badgehub.tokens import service as tokens
from tests.factories import png
from tests.functional.api_helpers import build_api_world, call


def _shared_world() -> dict[str, Any]:
    """The world these tests share: a ``snapshot`` build, made once per test process."""
    ids = build_api_world()
    lea = create_user("lea@example.net", name="Léa", verified=True)
    lea.locale = "fr"
    organisation = db.session.scalar(db.select(Organisation).where(Organisation.slug == ids["a"]))
    from badgehub.achievements.service import public_achievement

    asked = recognition.submit(lea, organisation, RequestInput(
        text="J'ai réparé vingt vélos.", links=["https://velo.example.org/photos"],
        files=[Upload("atelier.png", png())]), achievement=public_achievement(ids["repair"]),
        settings=current_app.config).request
    described = recognition.submit(lea, organisation, RequestInput(text="Un an de caisse.", title="Caisse"),
                                   settings=current_app.config).request
    owner = db.session.scalar(db.select(User).where(User.email == "owner_a@example.org"))
    _row, ids["reader_only"] = tokens.create_token(organisation, owner, name="Lecture",
                                                   scopes=[tokens.REQUESTS_READ])
    ids.update(asked=asked.public_id, described=described.public_id,
               file=next(e.public_id for e in asked.evidence if e.kind.value == "file"))
    return ids


@pytest.fixture
def world(snapshot: Any) -> dict[str, Any]:
    return snapshot(_shared_world)


def test_the_queue_lists_the_open_requests_with_their_evidence(client: FlaskClient, world: dict[str, Any]) -> None:
    answer = call(client, "GET", "/requests", world["token_a"])
    assert answer.status_code == 200
    page = answer.get_json()
    assert [item["id"] for item in page["items"]] == [world["asked"], world["described"]]
    first = page["items"][0]
    assert first["learner"] == {"name": "Léa", "email": "lea@example.net"} and first["achievement"] == world["repair"]
    assert [e["kind"] for e in first["evidence"]] == ["link", "file"]
    assert call(client, "GET", "/requests?status=accepted", world["token_a"]).get_json()["items"] == []
    assert call(client, "GET", "/requests?status=sideways", world["token_a"]).status_code == 400
    assert call(client, "GET", "/requests", world["token_b"]).get_json()["items"] == []


def test_a_file_downloads_only_for_the_organisation_asked(client: FlaskClient, world: dict[str, Any]) -> None:
    url = f"/api/v1/requests/{world['asked']}/evidence/{world['file']}"
    mine = client.get(url, headers={"Authorization": f"Bearer {world['token_a']}"})
    assert mine.status_code == 200 and mine.mimetype == "image/png" and mine.data.startswith(b"\x89PNG")
    assert mine.headers["X-Content-Type-Options"] == "nosniff"
    theirs = client.get(url, headers={"Authorization": f"Bearer {world['token_b']}"})
    assert theirs.status_code == 404 and theirs.get_json()["error"]["code"] in ("evidence_not_found",)


def test_another_organisation_s_request_is_404(client: FlaskClient, world: dict[str, Any]) -> None:
    assert call(client, "GET", f"/requests/{world['asked']}", world["token_b"]).get_json()["error"]["code"] == (
        "request_not_found")
    answer = call(client, "POST", f"/requests/{world['asked']}/decision", world["token_b"],
                  json={"decision": "accept"})
    assert answer.status_code == 404


def test_a_read_only_token_cannot_decide(client: FlaskClient, world: dict[str, Any]) -> None:
    assert call(client, "GET", f"/requests/{world['asked']}", world["reader_only"]).status_code == 200
    answer = call(client, "POST", f"/requests/{world['asked']}/decision", world["reader_only"],
                  json={"decision": "accept"})
    assert answer.status_code == 403 and answer.get_json()["error"]["code"] == "insufficient_scope"


def test_accepting_awards_the_badge_with_the_evidence_and_mails_the_learner(
        client: FlaskClient, world: dict[str, Any], outbox: Any) -> None:
    before = len(outbox())
    answer = call(client, "POST", f"/requests/{world['asked']}/decision", world["token_a"],
                  json={"decision": "accept"})
    assert answer.status_code == 200, answer.get_json()
    decided = answer.get_json()
    assert decided["status"] == "accepted" and decided["credential"]
    [award] = outbox()[before:]
    assert str(award["To"]) == "lea@example.net"
    document = json.loads(client.get(f"/c/{decided['credential']}.json").data)
    assert document["evidence"][0]["id"] == "https://velo.example.org/photos"
    again = call(client, "POST", f"/requests/{world['asked']}/decision", world["token_a"],
                 json={"decision": "decline", "message": "Non."})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "request_wrong_status"


def test_a_described_learning_needs_a_badge_of_the_organisation(client: FlaskClient, world: dict[str, Any]) -> None:
    url = f"/requests/{world['described']}/decision"
    for body in ({"decision": "accept"}, {"decision": "accept", "achievement": world["reading"]},
                 {"decision": "maybe"}, {"decision": "ask", "colour": "red"}, {"decision": "ask", "message": 3}):
        answer = call(client, "POST", url, world["token_a"], json=body)
        assert answer.status_code == 422, body
    answer = call(client, "POST", url, world["token_a"], json={"decision": "accept", "achievement": world["workshop"]})
    assert answer.status_code == 200 and answer.get_json()["achievement"] == world["workshop"]


def test_asking_then_declining_tells_the_learner_in_french(client: FlaskClient, world: dict[str, Any],
                                                          outbox: Any) -> None:
    url = f"/requests/{world['asked']}/decision"
    assert call(client, "POST", url, world["token_a"], json={"decision": "ask"}).status_code == 422
    before = len(outbox())
    answer = call(client, "POST", url, world["token_a"], json={"decision": "ask", "message": "Qui vous a vu ?"})
    assert answer.status_code == 200 and answer.get_json()["status"] == "more_asked"
    assert answer.get_json()["events"][-1] == {"kind": "more_asked", "text": "Qui vous a vu ?",
                                               "at": answer.get_json()["updated_at"]}
    answer = call(client, "POST", url, world["token_a"], json={"decision": "decline", "message": "Hors sujet."})
    assert answer.status_code == 200 and answer.get_json()["status"] == "declined"
    subjects = [str(m["Subject"]) for m in outbox()[before:]]
    assert len(subjects) == 2 and "demande plus de précisions" in subjects[0] and "a répondu" in subjects[1]


def test_the_queue_is_paged(client: FlaskClient, world: dict[str, Any]) -> None:
    first = call(client, "GET", "/requests?limit=1", world["token_a"]).get_json()
    assert [item["id"] for item in first["items"]] == [world["asked"]] and first["total"] == 2
    assert first["next"].endswith("limit=1&offset=1")
    second = call(client, "GET", "/requests?limit=1&offset=1", world["token_a"]).get_json()
    assert [item["id"] for item in second["items"]] == [world["described"]]
    assert second["total"] == 2 and second["next"] is None
    assert call(client, "GET", "/requests?offset=2", world["token_a"]).get_json()["items"] == []
