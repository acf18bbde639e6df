"""A learner on a phone (390×844) signs in by link, reads their wallet, makes a share link and opens it; every
wallet page passes axe-core's WCAG 2.1 A/AA rules in Debian's Chromium and fits the screen."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from flask import current_app

from badgehub.accounts.service import create_user, issue_sign_in_link
from badgehub.extensions import db
from badgehub.issuing import service as issuing
from badgehub.verification import fetch as fetch_module
from tests.browser.conftest import LiveServer
from tests.browser.test_verify_browser import axe_source as axe_source
from tests.browser.test_verify_browser import axe_violations
from tests.factories import build_world


@pytest.fixture(autouse=True)
def no_name_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dns(host: str, port: int) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "no name resolution in tests")

    monkeypatch.setattr(fetch_module, "resolve_addresses", no_dns)


def learner_with_badges(live_server: LiveServer) -> tuple[str, str]:
    """Léa with two badges, one revoked; returns her sign-in link and the valid badge's public id."""
    with live_server.app.test_request_context():
        world = build_world()
        learner = create_user("lea.martin@example.net", name="Léa Martin", verified=True)
        valid = issuing.issue_credential(organisation=world.a, achievement=world.repair,
                                         recipient_email="lea.martin@example.net", recipient_name="Léa Martin",
                                         actor_id=None, source="cli", config=current_app.config)
        revoked = issuing.issue_credential(organisation=world.b, achievement=world.reading,
                                           recipient_email="lea.martin@example.net", recipient_name="Léa Martin",
                                           actor_id=None, source="cli", config=current_app.config)
        issuing.revoke_credential(revoked, note="Erreur", actor_id=None, config=current_app.config)
        token = issue_sign_in_link(learner, config=current_app.config).token
        db.session.commit()
        return f"{live_server.url}/sign-in/link/{token}", str(valid.public_id)


def fits(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth") <= 390)


@pytest.mark.browser
def test_a_learner_reads_the_wallet_and_shares_a_badge_on_a_phone(page: Any, live_server: LiveServer,
                                                                  axe_source: str) -> None:
    from playwright.sync_api import expect

    link, public_id = learner_with_badges(live_server)
    page.goto(link)
    page.get_by_role("button").filter(has_text="Sign in").first.click()
    page.goto(f"{live_server.url}/wallet")
    expect(page.get_by_role("heading", level=1)).to_have_text("My wallet")
    cards = page.locator(".wallet-card")
    expect(cards).to_have_count(2)
    expect(cards.filter(has_text="Réparer une crevaison")).to_contain_text("Valid")
    expect(cards.filter(has_text="Club de lecture")).to_contain_text("Revoked")
    assert axe_violations(page, axe_source) == [] and fits(page)

    page.get_by_role("link", name="Réparer une crevaison").click()
    expect(page.get_by_role("link", name="Add to LinkedIn profile")).to_be_visible()
    assert axe_violations(page, axe_source) == [] and fits(page)

    page.goto(f"{live_server.url}/wallet/shares")
    page.get_by_label("Title of the link").fill("Pour Atelier Bois")
    page.get_by_label("Réparer une crevaison — Atelier Vélo").check()
    page.get_by_role("button", name="Make the link").click()
    expect(page.locator(".wallet-qr")).to_be_visible()
    assert axe_violations(page, axe_source) == [] and fits(page)
    share_url = page.locator(".wallet-shares a.break").first.get_attribute("href")
    assert share_url is not None

    for path in ("/wallet/settings", "/wallet/import", "/account/erase"):
        page.goto(f"{live_server.url}{path}")
        assert axe_violations(page, axe_source) == [], path
        assert fits(page), path

    page.goto(share_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Pour Atelier Bois")
    expect(page.locator(".wallet-card")).to_have_count(1)
    expect(page.locator(".wallet-card")).to_contain_text("Valid")
    assert axe_violations(page, axe_source) == [] and fits(page)
    page.get_by_role("link", name="Réparer une crevaison").click()
    assert f"/c/{public_id}?via=" in page.url
