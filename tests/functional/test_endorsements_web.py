"""Endorsing through the pages: an organisation endorses another's badge and profile, the endorsed organisation
declines and shows, a learner invites an endorsement by link and chooses to show it on /c/<id>; every list shows
each endorsement's own verdict, in English and in French, and the published documents embed what is shown."""

from __future__ import annotations

import json
import re
import socket
from typing import Any

import pytest
from flask.testing import FlaskClient

from badgehub.endorsements import service as endorsements
from badgehub.verification import fetch as fetch_module
from tests.conftest import csrf_token_from, sign_in
from tests.factories import build_endorsement_world


@pytest.fixture(autouse=True)
def no_name_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dns(host: str, port: int) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "no name resolution in tests")

    monkeypatch.setattr(fetch_module, "resolve_addresses", no_dns)


@pytest.fixture
def world(snapshot: Any) -> dict[str, Any]:
    return snapshot(build_endorsement_world)


def _post(client: FlaskClient, page: str, data: dict[str, Any], to: str | None = None, **kwargs: Any) -> Any:
    token = csrf_token_from(client.get(page, **kwargs).get_data(as_text=True))
    return client.post(to or page, data={"csrf_token": token, **data}, **kwargs)


def _as(client: FlaskClient, who: str) -> FlaskClient:
    """A new browser, signed in as ``who``."""
    fresh = client.application.test_client()
    sign_in(fresh, who)
    return fresh


def _endorsement_section(html: str) -> str:
    match = re.search(r'<section class="endorsements".*?</section>', html, re.S)
    return match.group(0) if match else ""


def test_an_organisation_endorses_another_s_badge_and_it_shows_with_its_verdict(
        client: FlaskClient, world: dict[str, Any]) -> None:
    sign_in(client, world["owner_b"])
    page = f"/achievements/{world['repair']}/endorse"
    assert client.get(f"/achievements/{world['repair']}").get_data(as_text=True).count(page) == 1
    answer = _post(client, page, {"endorser": world["b"], "comment": "Atelier sérieux, bien encadré.",
                                  "evidence_url": "https://biblio.example.org/visite"})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    section = _endorsement_section(client.get(f"/achievements/{world['repair']}").get_data(as_text=True))
    assert "Bibliothèque" in section and "Atelier sérieux, bien encadré." in section
    assert "badge-ok" in section and "Valid" in section
    french = _endorsement_section(client.get(f"/achievements/{world['repair']}",
                                             headers={"Accept-Language": "fr"}).get_data(as_text=True))
    assert "Recommandations" in french and "Valide" in french
    document = client.get(f"/achievements/{world['repair']}", headers={"Accept": "application/ld+json"}).get_json()
    assert [e["issuer"]["name"] for e in document["endorsement"]] == ["Bibliothèque"]


def test_a_form_with_problems_says_so_and_signs_nothing(client: FlaskClient, world: dict[str, Any]) -> None:
    sign_in(client, world["owner_b"])
    answer = _post(client, f"/achievements/{world['repair']}/endorse",
                   {"endorser": world["b"], "comment": "Oui.", "evidence_url": "ftp://x"})
    assert answer.status_code == 400
    assert "https://" in answer.get_data(as_text=True)
    # Endorsing one's own badge is not offered, and a forged choice is a 404.
    answer = _post(client, f"/achievements/{world['reading']}/endorse", {"endorser": world["b"], "comment": "Oui."})
    assert answer.status_code in (400, 404)
    assert endorsements.__name__  # the module is importable without an app


def test_the_endorsed_organisation_declines_then_shows_an_endorsement_of_its_profile(
        client: FlaskClient, world: dict[str, Any]) -> None:
    sign_in(client, world["owner_b"])
    assert _post(client, f"/issuers/{world['a']}/endorse",
                 {"endorser": world["b"], "comment": "Partenaire fiable depuis 2019."}).status_code == 302
    profile = client.get(f"/issuers/{world['a']}", headers={"Accept": "application/ld+json"}).get_json()
    public_id = None
    assert len(profile["endorsement"]) == 1
    # B sees it among what it gave, and cannot decline it for A (404).
    given = client.get(f"/organisations/{world['b']}/endorsements").get_data(as_text=True)
    public_id = re.search(r'id="given-([a-z2-7]{12})"', given).group(1)
    assert _post(client, f"/organisations/{world['b']}/endorsements", {"shown": "0"},
                 to=f"/organisations/{world['b']}/endorsements/{public_id}/display").status_code == 404
    client = _as(client, world["owner_a"])
    assert _post(client, f"/organisations/{world['a']}/endorsements", {"shown": "0"},
                 to=f"/organisations/{world['a']}/endorsements/{public_id}/display").status_code == 302
    profile = client.get(f"/issuers/{world['a']}", headers={"Accept": "application/ld+json"}).get_json()
    assert "endorsement" not in profile
    assert "Partenaire fiable" not in _endorsement_section(client.get(f"/issuers/{world['a']}").get_data(as_text=True))
    assert _post(client, f"/organisations/{world['a']}/endorsements", {"shown": "1"},
                 to=f"/organisations/{world['a']}/endorsements/{public_id}/display").status_code == 302
    assert "Partenaire fiable" in _endorsement_section(client.get(f"/issuers/{world['a']}").get_data(as_text=True))


def test_someone_else_s_endorsement_pages_are_404(client: FlaskClient, world: dict[str, Any]) -> None:
    sign_in(client, world["viewer_a"])
    assert client.get(f"/organisations/{world['b']}/endorsements").status_code == 404
    assert client.get(f"/organisations/{world['a']}/endorsements").status_code == 200


def test_a_learner_invites_by_link_and_shows_the_endorsement_on_the_credential_page(
        client: FlaskClient, world: dict[str, Any]) -> None:
    sign_in(client, world["lea"])
    page = f"/wallet/c/{world['credential']}/endorsements"
    answer = _post(client, page, {"message": "Vous m'avez vue animer."},
                   to=f"/wallet/c/{world['credential']}/endorsements/invite")
    assert answer.status_code == 201
    link = re.search(r'value="(http://localhost/endorse/[A-Za-z0-9_-]+)"', answer.get_data(as_text=True)).group(1)
    path = link.removeprefix("http://localhost")
    client = _as(client, world["owner_b"])
    assert "Vous m&#39;avez vue animer." in client.get(path).get_data(as_text=True)
    assert _post(client, path, {"endorser": world["b"], "comment": "Elle a animé trois ateliers."}).status_code == 302
    assert "Elle a animé" not in client.get(f"/c/{world['credential']}").get_data(as_text=True)
    client = _as(client, world["lea"])
    listing = client.get(page).get_data(as_text=True)
    endorsement_id = re.search(r'/endorsements/([a-z2-7]{12})/display', listing).group(1)
    assert _post(client, page, {"shown": "1"},
                 to=f"/wallet/c/{world['credential']}/endorsements/{endorsement_id}/display").status_code == 302
    client = client.application.test_client()
    section = _endorsement_section(client.get(f"/c/{world['credential']}").get_data(as_text=True))
    assert "Elle a animé trois ateliers." in section and "Valid" in section
    document = json.loads(client.get(f"/endorsements/{endorsement_id}.json").data)
    assert document["credentialSubject"]["id"].startswith("urn:uuid:")


def test_someone_else_cannot_manage_a_learner_s_endorsements(client: FlaskClient, world: dict[str, Any]) -> None:
    sign_in(client, world["owner_b"])
    assert client.get(f"/wallet/c/{world['credential']}/endorsements").status_code == 404


def test_a_coordinator_gives_the_territory_its_signing_identity(client: FlaskClient, world: dict[str, Any]) -> None:
    sign_in(client, world["coordinator"])
    page = f"/coordinate/{world['territory']}/endorsements"
    answer = _post(client, page, {})
    assert answer.status_code == 302
    issuer_page = answer.headers["Location"]
    slug = issuer_page.split("/")[2]
    assert client.get(issuer_page).status_code == 200
    assert client.get(f"/issuers/{slug}/did.json").status_code == 200
    form = client.get(f"/achievements/{world['repair']}/endorse").get_data(as_text=True)
    assert f'value="{slug}"' in form
