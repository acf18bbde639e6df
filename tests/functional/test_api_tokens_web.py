"""The API tokens page: owners create (the token is shown once) and revoke; other staff only see the list;
outsiders see nothing."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import select

from badgehub.extensions import db
from badgehub.tokens.models import ApiToken
from tests.conftest import csrf_token_from, sign_in
from tests.factories import world_ids


@pytest.fixture
def world(snapshot: Any) -> dict[str, Any]:
    return snapshot(world_ids)


def page_url(world: dict[str, Any], organisation: str = "a") -> str:
    return f"/organisations/{world[organisation]}/api-tokens"


def create(client: Any, world: dict[str, Any], **changes: Any) -> Any:
    html = client.get(page_url(world)).get_data(as_text=True)
    data: dict[str, Any] = {"csrf_token": csrf_token_from(html), "name": "Logiciel d'inscriptions",
                            "scopes": ["credentials:issue", "credentials:read"], "expires_on": "", "submit": "1"}
    data.update(changes)
    return client.post(page_url(world), data=data)


def shown_token(html: str) -> str:
    match = re.search(r'<textarea id="new-token"[^>]*>(bh_[^<]+)</textarea>', html)
    assert match, "the new token is shown"
    return match.group(1)


def test_an_owner_creates_a_token_that_is_shown_once_and_works(client, world, query):
    sign_in(client, world["owner_a"])
    last_day = dt.date.today() + dt.timedelta(days=365)
    response = create(client, world, expires_on=last_day.isoformat())
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    token = shown_token(html)
    assert "shown only once" in html
    stored = query(lambda: db.session.scalar(select(ApiToken)))
    # Valid through the whole last day, wherever the person is (until midnight at UTC-12).
    assert (stored.name, stored.scopes, stored.expires_at) == (
        "Logiciel d'inscriptions", ["credentials:read", "credentials:issue"],
        dt.datetime.combine(last_day, dt.time(), dt.UTC) + dt.timedelta(hours=36))
    assert client.get("/api/v1/credentials", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    listing = client.get(page_url(world)).get_data(as_text=True)
    assert stored.prefix in listing and token not in listing and token.split("_", 2)[2] not in listing


def test_a_token_needs_a_name_and_a_permission(client, world, query):
    sign_in(client, world["owner_a"])
    response = create(client, world, name="", scopes=[])
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Give the token a name." in html and "Choose at least one of the permissions offered." in html
    assert create(client, world, scopes=["everything"]).status_code == 400
    assert create(client, world, expires_on="2001-01-01").status_code == 400
    assert query(lambda: db.session.scalar(select(ApiToken))) is None


def test_other_staff_see_the_list_but_cannot_create_or_revoke(client, world, setup):
    sign_in(client, world["owner_a"])
    assert create(client, world).status_code == 201
    token_id = setup(lambda: db.session.scalar(select(ApiToken.id)))
    for person in ("viewer_a", "issuer_a"):
        sign_in(client, world[person])
        page = client.get(page_url(world))
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and "Logiciel d&#39;inscriptions" in html
        assert "Create the token" not in html and "/revoke" not in html
        token = csrf_token_from(html)
        assert client.post(page_url(world), data={"csrf_token": token, "name": "x",
                                                   "scopes": ["credentials:read"]}).status_code == 403
        assert client.post(f"{page_url(world)}/{token_id}/revoke", data={"csrf_token": token}).status_code == 403


def test_outsiders_get_404(client, world, setup):
    sign_in(client, world["owner_a"])
    assert create(client, world).status_code == 201
    token_id = setup(lambda: db.session.scalar(select(ApiToken.id)))
    sign_in(client, world["owner_b"])
    assert client.get(page_url(world)).status_code == 404
    own = client.get(page_url(world, "b"))
    assert own.status_code == 200 and "Logiciel" not in own.get_data(as_text=True)
    csrf = csrf_token_from(own.get_data(as_text=True))
    assert client.post(f"{page_url(world)}/{token_id}/revoke", data={"csrf_token": csrf}).status_code == 404
    assert client.post(f"{page_url(world, 'b')}/{token_id}/revoke", data={"csrf_token": csrf}).status_code == 404


def test_an_owner_revokes_a_token_and_programs_are_refused(client, world, query):
    sign_in(client, world["owner_a"])
    token = shown_token(create(client, world).get_data(as_text=True))
    token_id = query(lambda: db.session.scalar(select(ApiToken.id)))
    html = client.get(page_url(world)).get_data(as_text=True)
    assert client.post(f"{page_url(world)}/{token_id}/revoke", data={}).status_code == 400  # no CSRF token
    response = client.post(f"{page_url(world)}/{token_id}/revoke", data={"csrf_token": csrf_token_from(html)})
    assert response.status_code == 302 and response.headers["Location"] == page_url(world)
    assert "Revoked on" in client.get(page_url(world)).get_data(as_text=True)
    refused = client.get("/api/v1/credentials", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "token_revoked"


def test_signed_out_visitors_are_sent_to_sign_in_and_staff_pages_link_to_tokens(client, world):
    response = client.get(page_url(world))
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
    sign_in(client, world["viewer_a"])
    overview = client.get(f"/organisations/{world['a']}").get_data(as_text=True)
    assert f'href="{page_url(world)}"' in overview
