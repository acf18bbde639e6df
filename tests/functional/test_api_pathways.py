"""/api/v1/pathways: an organisation defines, reads, replaces, publishes and archives its pathways with its
tokens; another organisation's drafts are 404; wrong bodies are 422 with the fields named; every answer matches
the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.functional.api_helpers import build_api_world, call


@pytest.fixture(autouse=True)
def jobs_inline(app: Any) -> None:
    """Publishing hands a job to the queue; here it runs inline, in the test's transaction."""
    app.config["JOB_BACKEND"] = "sync"


@pytest.fixture
def world(snapshot: Any) -> dict[str, Any]:
    return snapshot(build_api_world)


def _body(world: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Parcours atelier", "description": "De la rustine à l'animation.", "in_language": "fr",
        "achievement": world["workshop"],
        "qualification": {"uri": "https://esco.ec.europa.eu/en/classification/occupation?uri=x", "name": "Cycliste"},
        "groups": [{"title": "Les bases", "ordered": True, "min_count": 1,
                    "achievements": [world["repair"], world["reading"]]}]}
    body.update(changes)
    return body


def test_an_organisation_defines_and_publishes_a_pathway(client: FlaskClient, world: dict[str, Any]) -> None:
    made = call(client, "POST", "/pathways", world["token_a"], json=_body(world))
    assert made.status_code == 201, made.get_json()
    pathway = made.get_json()
    assert pathway["status"] == "draft" and pathway["owner"]["slug"] == world["a"] and pathway["completions"] == 0
    assert pathway["groups"][0]["achievements"] == [world["repair"], world["reading"]]
    listed = call(client, "GET", "/pathways", world["token_a"]).get_json()
    assert [item["id"] for item in listed["items"]] == [pathway["id"]]
    assert call(client, "GET", f"/pathways/{pathway['id']}", world["token_b"]).status_code == 404
    assert call(client, "GET", "/pathways", world["token_b"]).get_json()["total"] == 0
    replaced = call(client, "PUT", f"/pathways/{pathway['id']}", world["token_a"],
                    json=_body(world, name="Parcours vélo", achievement=None))
    assert replaced.status_code == 200 and replaced.get_json()["name"] == "Parcours vélo"
    assert replaced.get_json()["achievement"] is None
    published = call(client, "POST", f"/pathways/{pathway['id']}/status", world["token_a"],
                     json={"status": "published"})
    assert published.status_code == 200 and published.get_json()["status"] == "published"
    seen = call(client, "GET", f"/pathways/{pathway['id']}", world["token_b"])
    assert seen.status_code == 200 and "completions" not in seen.get_json()
    assert call(client, "PUT", f"/pathways/{pathway['id']}", world["token_b"], json=_body(world)).status_code == 404
    assert call(client, "POST", f"/pathways/{pathway['id']}/status", world["token_b"],
                json={"status": "archived"}).status_code == 404
    archived = call(client, "POST", f"/pathways/{pathway['id']}/status", world["token_a"], json={"status": "archived"})
    assert archived.get_json()["status"] == "archived"
    again = call(client, "PUT", f"/pathways/{pathway['id']}", world["token_a"], json=_body(world))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "pathway_archived"
    gone = call(client, "GET", f"/pathways/{pathway['id']}", world["token_b"])
    assert gone.status_code == 404 and gone.get_json()["error"]["code"] == "pathway_not_found"


def test_wrong_bodies_are_refused_with_the_fields_named(client: FlaskClient, world: dict[str, Any]) -> None:
    answer = call(client, "POST", "/pathways", world["token_a"], json=_body(
        world, name=3, colour="red", groups=[{"achievements": "x", "min_count": "2", "shape": 1}]))
    assert answer.status_code == 422
    fields = answer.get_json()["error"]["details"]["fields"]
    assert set(fields) == {"name", "colour", "groups-0-achievements", "groups-0-min_count", "groups-0-shape"}
    answer = call(client, "POST", "/pathways", world["token_a"], json=_body(
        world, achievement=world["reading"], groups=[{"achievements": [world["repair"]], "min_count": 3}]))
    assert answer.status_code == 422
    assert set(answer.get_json()["error"]["details"]["fields"]) == {"achievement", "groups-0-min_count"}
    status = call(client, "POST", "/pathways", world["token_a"], json=_body(world)).get_json()["id"]
    wrong = call(client, "POST", f"/pathways/{status}/status", world["token_a"], json={"status": "draft"})
    assert wrong.status_code == 422


def test_the_pathway_scopes_are_needed(client: FlaskClient, world: dict[str, Any]) -> None:
    assert call(client, "GET", "/pathways", world["read_a"]).status_code == 403
    assert call(client, "POST", "/pathways", world["read_a"], json=_body(world)).status_code == 403
    assert call(client, "GET", "/pathways").status_code == 401


def test_the_list_counts_each_pathway_s_completions(client: FlaskClient, world: dict[str, Any], setup: Any) -> None:
    def award(badge: str) -> None:
        from flask import current_app

        from badgehub.achievements.service import public_achievement
        from badgehub.issuing import service as issuing

        achievement = public_achievement(badge)
        issuing.issue_credential(organisation=achievement.organisation, achievement=achievement,
                                 recipient_email="lea@example.net", recipient_name="Léa", actor_id=None,
                                 source="single", config=current_app.config)

    made = call(client, "POST", "/pathways", world["token_a"], json=_body(world, groups=[
        {"achievements": [world["repair"]]}])).get_json()
    call(client, "POST", "/pathways", world["token_a"], json=_body(world, name="Autre"))
    call(client, "POST", f"/pathways/{made['id']}/status", world["token_a"], json={"status": "published"})
    setup(lambda: award(world["repair"]))
    listed = call(client, "GET", "/pathways", world["token_a"]).get_json()["items"]
    assert {item["name"]: item["completions"] for item in listed} == {"Autre": 0, "Parcours atelier": 1}
    assert call(client, "GET", f"/pathways/{made['id']}", world["token_a"]).get_json()["completions"] == 1
