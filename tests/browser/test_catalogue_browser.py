"""A resident looks for somewhere to learn on a phone (390×844): searches from the territory page, narrows the
catalogue with the filters, opens a badge; the catalogue and the coordinators' theme page pass axe-core's WCAG
2.1 A/AA rules in Debian's Chromium."""

from __future__ import annotations

from typing import Any

import pytest
from flask import current_app

from badgehub.extensions import db
from tests.browser.conftest import LiveServer
from tests.browser.test_verify_browser import axe_source as axe_source
from tests.browser.test_verify_browser import axe_violations
from tests.factories import build_catalogue_world


def build(live_server: LiveServer) -> dict[str, Any]:
    with live_server.app.test_request_context():
        ids = build_catalogue_world().ids()
        db.session.commit()
        return ids


@pytest.mark.browser
def test_a_resident_finds_where_to_learn_on_a_phone(page: Any, live_server: LiveServer, axe_source: str) -> None:
    from playwright.sync_api import expect

    build(live_server)
    page.goto(f"{live_server.url}/t/evry")
    page.get_by_label("What do you want to learn?").fill("velo")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="1 badge")).to_be_visible()
    expect(page.get_by_role("link", name="Réparer une crevaison")).to_be_visible()
    assert axe_violations(page, axe_source) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.get_by_label("What do you want to learn?").fill("")
    page.get_by_label("Domain").select_option(label="Savoir-faire techniques")
    page.get_by_label("Theme").select_option(label="Learning for and in the workplace")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="1 badge")).to_be_visible()
    expect(page.get_by_text("Awarded by Atelier Vélo")).to_be_visible()
    page.get_by_role("link", name="Fabriquer un tabouret").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Fabriquer un tabouret")


@pytest.mark.browser
def test_a_coordinator_adds_a_theme_on_a_phone(page: Any, live_server: LiveServer, axe_source: str) -> None:
    from playwright.sync_api import expect

    from badgehub.accounts.service import get_user_by_email, issue_sign_in_link

    build(live_server)
    with live_server.app.test_request_context():
        user = get_user_by_email("coord@example.org")
        assert user is not None
        link = issue_sign_in_link(user, config=current_app.config).token
        db.session.commit()
    page.goto(f"{live_server.url}/sign-in/link/{link}")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/coordinate")  # where a coordinator lands after signing in
    page.goto(f"{live_server.url}/coordinate/evry/themes")
    expect(page.get_by_role("heading", level=1)).to_have_text("Themes of Évry")
    assert axe_violations(page, axe_source) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("textbox", name="Name").fill("Citoyenneté")
    page.get_by_role("button", name="Add the theme").click()
    expect(page.get_by_text("The theme “Citoyenneté” is added.")).to_be_visible()
    expect(page.get_by_role("heading", name="Citoyenneté", level=3)).to_be_visible()
