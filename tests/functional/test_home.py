"""Where each person lands after signing in: staff on their organisation's dashboard (an "Award" button on each
badge), coordinators on their territories, everybody else on their wallet."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import current_app

from badgehub.accounts.service import create_user
from tests.conftest import sign_in
from tests.factories import build_world
from tests.functional.test_issuing_web import issue_directly


def _shared_world() -> dict[str, Any]:
    """The world these tests share: a ``snapshot`` build, made once per test process."""
    built = build_world()
    ids = built.ids()
    ids["coordinator"] = built.coordinator.get_id()
    ids["learner"] = create_user("learner@example.net", name="Léa", verified=True).get_id()
    return ids


@pytest.fixture
def world(snapshot: Any) -> dict[str, Any]:
    return snapshot(_shared_world)


def landing(client: Any, session_id: str) -> str:
    sign_in(client, session_id)
    response = client.get("/home")
    assert response.status_code == 302
    return str(response.headers["Location"])


def test_each_role_lands_on_its_own_home(client, world):
    assert landing(client, world["issuer_a"]) == f"/organisations/{world['a']}"
    assert landing(client, world["coordinator"]) == "/coordinate"
    assert landing(client, world["learner"]) == "/wallet"


def test_award_is_two_clicks_from_sign_in_on_the_dashboard(client, world, setup):
    issue_directly(setup, world, email="sam@example.net")
    sign_in(client, world["issuer_a"])
    html = client.get(f"/organisations/{world['a']}").get_data(as_text=True)
    award = f"/organisations/{world['a']}/achievements/{world['repair']}/award"
    assert f'href="{award}"' in html
    assert f'href="/organisations/{world["a"]}/achievements/{world["repair"]}/award-list"' in html
    assert f'/organisations/{world["a"]}/claims/new?achievement={world["repair"]}' in html
    assert "Sam Durand" in html  # the latest awards
    assert re.search(r'<span class="figure">1</span>\s*badge awarded', html)
    assert client.get(award).status_code == 200


def test_a_viewer_sees_the_dashboard_without_award_buttons(client, world):
    sign_in(client, world["viewer_a"])
    html = client.get(f"/organisations/{world['a']}").get_data(as_text=True)
    assert "/award" not in html and "Atelier Vélo" in html


def test_the_badges_page_offers_award_on_each_badge(client, world):
    sign_in(client, world["issuer_a"])
    html = client.get(f"/organisations/{world['a']}/achievements").get_data(as_text=True)
    for badge in ("repair", "workshop"):
        assert f"/achievements/{world[badge]}/award\"" in html


def test_the_home_page_sends_a_signed_in_person_to_their_own_home(client, world):
    # Issue 16: signed in, "/" was still the public landing page.
    for role, home in (("issuer_a", f"/organisations/{world['a']}"), ("coordinator", "/coordinate"),
                       ("learner", "/wallet")):
        sign_in(client, world[role])
        response = client.get("/")
        assert response.status_code == 302 and response.headers["Location"] == home, role


def test_the_home_page_still_greets_people_who_are_not_signed_in(client, world):
    response = client.get("/")
    assert response.status_code == 200 and "Learning territories" in response.get_data(as_text=True)


def test_a_used_link_says_why_in_words_without_error_code_names(client, world, setup):
    from badgehub.accounts.service import get_user_by_email, issue_sign_in_link
    from tests.conftest import csrf_token_from

    token = setup(lambda: issue_sign_in_link(get_user_by_email("learner@example.net"), config=current_app.config).token)
    link = f"/sign-in/link/{token}"
    client.post(link, data={"csrf_token": csrf_token_from(client.get(link).get_data(as_text=True))})
    with client.session_transaction() as session:
        session.clear()
    html = client.get(link).get_data(as_text=True)
    visible = re.sub(r"<[^>]+>", " ", html)
    assert "already been used" in visible and "link_used" not in visible and "Error code" not in visible


def test_the_styleguide_is_only_there_in_debug_mode(app, client):
    assert client.get("/_styleguide").status_code == 404
    app.debug = True
    try:
        page = client.get("/_styleguide")
        assert page.status_code == 200 and 'class="danger"' in page.get_data(as_text=True)
    finally:
        app.debug = False
