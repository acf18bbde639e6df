"""An owner makes an API token on a phone, copies it from the page that shows it once, a program uses it, and
the owner revokes it. Both pages pass axe-core's WCAG 2.1 A/AA rules and fit a 390 px wide screen."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import current_app

from badgehub.accounts.service import issue_sign_in_link
from badgehub.extensions import db
from tests.browser.conftest import LiveServer
from tests.browser.test_verify_browser import axe_source, axe_violations
from tests.factories import build_world

__all__ = ["axe_source"]  # the fixture, imported so that this module can use it


def fits_a_phone(page: Any, source: str) -> None:
    assert axe_violations(page, source) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.browser
def test_an_owner_makes_uses_and_revokes_an_api_token(page: Any, live_server: LiveServer, axe_source: str) -> None:
    from playwright.sync_api import expect

    with live_server.app.test_request_context():
        world = build_world()
        slug = world.a.slug
        link = issue_sign_in_link(world.owner_a, config=current_app.config).token
        db.session.commit()
    page.goto(f"{live_server.url}/sign-in/link/{link}")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/organisations/*")  # where staff land after signing in

    page.goto(f"{live_server.url}/organisations/{slug}")
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API tokens of Atelier Vélo")
    fits_a_phone(page, axe_source)
    page.get_by_label("Name (what the token is for)").fill("Inscriptions")
    page.get_by_label("Award badges").check()
    page.get_by_label("Read and list the badges awarded", exact=False).check()
    page.get_by_label("Valid until (optional)").fill((dt.date.today() + dt.timedelta(days=30)).isoformat())
    page.get_by_role("button", name="Create the token").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your new API token “Inscriptions”")
    token = page.get_by_role("textbox", name="Token").input_value()
    assert token.startswith("bh_")
    fits_a_phone(page, axe_source)

    api = page.request.get(f"{live_server.url}/api/v1/credentials", headers={"Authorization": f"Bearer {token}"})
    assert api.status == 200 and api.json()["total"] == 0

    page.get_by_role("link", name="Back to the API tokens").click()
    expect(page.get_by_text(token)).to_have_count(0)
    page.get_by_role("button", name="Revoke Inscriptions").click()
    expect(page.get_by_text("Revoked on", exact=False)).to_be_visible()
    fits_a_phone(page, axe_source)
    api = page.request.get(f"{live_server.url}/api/v1/credentials", headers={"Authorization": f"Bearer {token}"})
    assert api.status == 401 and api.json()["error"]["code"] == "token_revoked"
