"""An employer opens /c/<id> on a phone (390×844): reads the verdict, opens a step, checks the holder's e-mail; and
the page, valid or revoked, passes axe-core's WCAG 2.1 A/AA rules in Debian's Chromium."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from flask import current_app

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


def issued(live_server: LiveServer, *, revoked: bool = False) -> str:
    with live_server.app.test_request_context():
        world = build_world()
        credential = issuing.issue_credential(
            organisation=world.a, achievement=world.repair, recipient_email="lea.martin@example.net",
            recipient_name="Léa Martin", actor_id=None, source="cli", result="Très bien", config=current_app.config)
        if revoked:
            issuing.revoke_credential(credential, reason="error", note="Attribué par erreur", actor_id=None,
                                      config=current_app.config)
        db.session.commit()
        return str(credential.public_id)


@pytest.mark.browser
def test_an_employer_reads_the_verdict_and_checks_the_holder_on_a_phone(page: Any, live_server: LiveServer,
                                                                        axe_source: str) -> None:
    from playwright.sync_api import expect

    public_id = issued(live_server)
    page.goto(f"{live_server.url}/c/{public_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("✓ Valid")
    expect(page.get_by_text("This badge is genuine")).to_be_visible()
    # The badge leads: its issuer and name above the verdict, on a phone too.
    expect(page.locator(".badge-hero").get_by_role("link", name="Atelier Vélo")).to_be_visible()
    expect(page.locator(".badge-hero-name")).to_have_text("Réparer une crevaison")
    assert page.locator(".badge-hero-name").bounding_box()["y"] < page.locator("#verdict-title").bounding_box()["y"]
    expect(page.get_by_text("Approved member of Évry since")).to_be_visible()
    assert axe_violations(page, axe_source) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    signature = page.locator("details.step", has_text="Digital signature")
    expect(signature.get_by_text("The digital signature is valid")).to_be_hidden()
    signature.locator("summary").click()
    expect(signature.get_by_text("The digital signature is valid")).to_be_visible()

    page.get_by_label("E-mail address the holder gave you").fill("Lea.Martin@example.net")
    page.get_by_role("button", name="Check the holder").click()
    expect(page.locator("#holder-answer")).to_contain_text("Yes: this badge was issued to Lea.Martin@example.net.")
    assert axe_violations(page, axe_source) == []


@pytest.mark.browser
def test_a_revoked_credential_page_says_so_and_passes_axe(page: Any, live_server: LiveServer,
                                                          axe_source: str) -> None:
    from playwright.sync_api import expect

    public_id = issued(live_server, revoked=True)
    page.goto(f"{live_server.url}/c/{public_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("✗ Revoked")
    expect(page.get_by_text("Reason: Error in the award.")).to_be_visible()
    expect(page.get_by_text("Attribué par erreur")).to_have_count(0)
    assert axe_violations(page, axe_source) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
