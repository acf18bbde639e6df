"""The recognition journey in a real browser, starting at ``/`` and only clicking (and typing into forms, and
choosing a file), in English and in French, on a phone, each step axe-clean on a phone and a laptop (the Journey
helper of test_journeys.py):

a learner finds a badge in the territory's catalogue, asks for it with a photo as evidence; the workshop's issuer
signs in, opens the request from the organisation's pages, looks at the photo and accepts; the badge arrives in the
learner's wallet.
"""

from __future__ import annotations

from typing import Any

import pytest

from badgehub.accounts.service import change_password, create_user
from badgehub.extensions import db
from tests.browser import test_journeys
from tests.browser.conftest import LiveServer
from tests.browser.test_journeys import PASSWORD, Journey
from tests.factories import build_world, png

pytestmark = pytest.mark.browser
# The fixtures of test_journeys.py, shared.
axe_source, journey_page, lang = test_journeys.axe_source, test_journeys.journey_page, test_journeys.lang


@pytest.fixture
def world(live_server: LiveServer) -> dict[str, Any]:
    with live_server.app.test_request_context():
        built = build_world()
        lea = create_user("lea@example.net", name="Léa Martin", verified=True)
        for user in (built.issuer_a, lea):
            change_password(user, current_password=None, new_password=PASSWORD)
        ids = built.ids()
        ids.update(issuer_email=built.issuer_a.email, territory_name=built.territory.name)
        db.session.commit()
        return ids


def test_a_learner_asks_with_a_photo_the_organisation_accepts_and_the_badge_arrives(
        browser: Any, journey_page: Any, live_server: LiveServer, world: dict[str, Any], axe_source: str,
        lang: str, tmp_path: Any) -> None:
    from playwright.sync_api import expect

    photo = tmp_path / "roue-reparee.png"
    photo.write_bytes(png((320, 240), (30, 120, 60, 255)))
    page = journey_page
    learner = Journey(page, live_server, axe_source, "recognition-request", lang)
    learner.start()
    learner.click(page.get_by_role("link", name=world["territory_name"]).first)
    learner.click(page.locator("a[href$='/badges']").first)
    learner.click(page.get_by_role("link", name="Réparer une crevaison"))
    learner.click(page.get_by_role("link", name=learner.t("Request this badge")))
    page.locator("#email").fill("lea@example.net")  # signing in leads back to the form
    page.locator("#password").fill(PASSWORD)
    learner.click(page.locator("form", has=page.locator("#password")).get_by_role("button"))
    learner.step("request-form")
    page.get_by_label(learner.t("What you did")).fill("J'ai réparé trois crevaisons samedi à l'atelier.")
    page.get_by_label(learner.t("Files (optional)")).set_input_files(str(photo))
    learner.click(page.get_by_role("button", name=learner.t("Send the request")))
    expect(page.get_by_role("heading", level=1)).to_have_text("Réparer une crevaison")
    assert "roue-reparee.png" in page.locator("main").inner_text()
    learner.step("request-sent")

    context = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844})
    try:
        other = context.new_page()
        other.set_default_timeout(10_000)
        reviewer = Journey(other, live_server, axe_source, "recognition-review", lang)
        reviewer.start()
        reviewer.sign_in(world["issuer_email"])
        reviewer.click(other.get_by_role("link", name=reviewer.t("Recognition requests"), exact=True))
        reviewer.step("queue")
        reviewer.click(other.get_by_role("link", name="Réparer une crevaison").first)
        assert "J'ai réparé trois crevaisons" in other.locator("main").inner_text()
        photo_link = other.get_by_role("link", name="roue-reparee.png")
        response = other.request.get(live_server.url + (photo_link.get_attribute("href") or ""))
        assert response.status == 200 and response.headers["content-type"] == "image/png"
        reviewer.step("review")
        reviewer.click(other.get_by_role("button", name=reviewer.t("Accept and award the badge")))
        assert reviewer.t("No request waits for your decision.") in other.locator("main").inner_text()
        reviewer.step("accepted")
        # Three to sign in, two to the request (the organisation's pages, then the queue), one to accept.
        assert reviewer.clicks == (6 if lang == "en" else 7)
    finally:
        context.close()

    learner.menu("My wallet")
    cards = page.locator(".wallet-cards")
    expect(cards.first).to_contain_text("Réparer une crevaison")
    learner.step("wallet-with-badge")
    learner.click(page.get_by_role("link", name=learner.t("My requests")))
    assert learner.t("Accepted") in page.locator("main").inner_text()
    learner.step("my-requests")
    assert learner.clicks == (9 if lang == "en" else 10)

