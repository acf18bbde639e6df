"""A participant claims a badge on a phone: the code from the poster, the e-mailed link, the button, the badge.

Every page of the way passes axe-core's WCAG 2.1 A/AA rules and fits a 390 px wide screen.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from badgehub.claims import service as claims
from badgehub.db import utcnow
from badgehub.extensions import db
from badgehub.issuing.models import IssuedCredential
from badgehub.mail import read_outbox
from tests.browser.conftest import LiveServer
from tests.browser.test_verify_browser import axe_source, axe_violations
from tests.conftest import links_in
from tests.factories import build_world

__all__ = ["axe_source"]  # the fixture, imported so that this module can use it


def fits_a_phone(page: Any, source: str) -> None:
    assert axe_violations(page, source) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.browser
def test_a_participant_claims_a_badge_on_a_phone(page: Any, live_server: LiveServer, axe_source: str) -> None:
    from playwright.sync_api import expect

    with live_server.app.test_request_context():
        world = build_world()
        campaign = claims.create_campaign(world.a, world.issuer_a, claims.CampaignFields(
            achievement_public_id=world.repair.public_id, title="Fête du vélo",
            closes_at=utcnow() + dt.timedelta(hours=2), max_claims=30))
        code = campaign.short_code
        db.session.commit()

    page.goto(f"{live_server.url}/claim")
    fits_a_phone(page, axe_source)
    page.get_by_label("Code of the poster").fill(code.lower())
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"**/claim/{code}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Réparer une crevaison")
    expect(page.get_by_text("30 of 30")).to_be_visible()
    fits_a_phone(page, axe_source)

    page.get_by_label("Your e-mail address").fill("lea@example.net")
    page.get_by_label("Your name (optional)").fill("Léa Martin")
    page.get_by_role("button", name="Send me the link").click()
    page.wait_for_url(f"**/claim/{code}/sent")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    fits_a_phone(page, axe_source)

    [message] = read_outbox(live_server.outbox)
    [link] = [link for link in links_in(message) if "/confirm/" in link]
    page.goto(link)
    expect(page.get_by_text("The badge will be issued to lea@example.net")).to_be_visible()
    fits_a_phone(page, axe_source)
    page.get_by_role("button", name="Get my badge").click()
    expect(page.get_by_text("The badge is yours.")).to_be_visible()
    fits_a_phone(page, axe_source)

    with live_server.app.app_context():
        public_id = db.session.scalars(select(IssuedCredential.public_id)).one()
    expect(page.get_by_role("link", name="See my badge")).to_have_attribute("href", f"{live_server.url}/c/{public_id}")
