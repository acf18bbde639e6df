"""A learner asks, on a phone, to put a badge in a wallet app: the card's button shows the QR code and the
link, the transaction code leaves by e-mail, and the page passes axe-core's WCAG 2.1 A/AA rules at 390 px."""

from __future__ import annotations

from typing import Any

import pytest

from badgehub.mail import read_outbox
from tests.browser.conftest import LiveServer
from tests.browser.test_verify_browser import axe_source, axe_violations
from tests.browser.test_wallet_browser import fits, learner_with_badges

__all__ = ["axe_source"]


@pytest.mark.browser
def test_a_learner_gets_the_offer_qr_code_and_the_code_by_mail(page: Any, live_server: LiveServer,
                                                               axe_source: str) -> None:
    from playwright.sync_api import expect

    link, public_id = learner_with_badges(live_server)
    page.goto(link)
    page.get_by_role("button").filter(has_text="Sign in").first.click()
    page.goto(f"{live_server.url}/wallet/c/{public_id}")
    page.get_by_role("button", name="Show the QR code for my wallet app").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add Réparer une crevaison to your wallet app")
    expect(page.get_by_role("img", name="QR code to scan with your wallet app")).to_be_visible()
    href = page.get_by_role("link", name="Open in my wallet app").get_attribute("href")
    assert href is not None and href.startswith("openid-credential-offer://?credential_offer_uri=")
    assert axe_violations(page, axe_source) == [] and fits(page)
    codes = [m for m in read_outbox(live_server.outbox)
             if m["Subject"] == "Your code to add a badge to your wallet app"]
    assert len(codes) == 1
