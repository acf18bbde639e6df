"""A resident reads the observatory on a phone (390×844), with JavaScript off: charts and tables render, the
filters work, nothing overflows the screen; the page and the data dictionary pass axe-core's WCAG 2.1 A/AA
rules in Debian's Chromium; the coordinators' page too."""

from __future__ import annotations

from typing import Any

import pytest

from badgehub.extensions import db
from tests.browser.conftest import LiveServer
from tests.browser.test_verify_browser import axe_source as axe_source
from tests.browser.test_verify_browser import axe_violations
from tests.unit.stats.dataset import build_dataset


def build(live_server: LiveServer) -> dict[str, Any]:
    with live_server.app.test_request_context():
        ids = build_dataset().ids()
        db.session.commit()
        return ids


@pytest.mark.browser
def test_a_resident_reads_the_observatory_on_a_phone_without_javascript(browser: Any, live_server: LiveServer,
                                                                         axe_source: str) -> None:
    from playwright.sync_api import expect

    ids = build(live_server)
    context = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/t/{ids['territory']}")
        page.get_by_role("link", name="Observatory: the learning recognised here, in figures and open data").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Observatory of Évry")
        expect(page.get_by_role("table", name="By competency")).to_be_visible()
        assert page.locator("svg.obs-bar").count() > 0 and page.locator("svg.obs-columns").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.get_by_label("Sector", exact=True).select_option(label="Community and volunteering")
        page.get_by_role("button", name="Show").click()
        expect(page.get_by_role("table", name="By sector of the issuing organisation")).to_contain_text(
            "Community and volunteering")
        assert "sector=community" in page.url
        page.get_by_label("Period", exact=True).select_option(value="2025-Q1")
        page.get_by_role("button", name="Show").click()
        expect(page.get_by_role("table", name="Credentials issued per month")).to_contain_text("March 2025")
        assert "period=2025-Q1" in page.url
        page.get_by_role("link", name="Data dictionary").first.click()
        expect(page.get_by_role("heading", name="Data dictionary")).to_be_visible()
    finally:
        context.close()


@pytest.mark.browser
def test_observatory_pages_pass_axe(page: Any, live_server: LiveServer, axe_source: str) -> None:
    ids = build(live_server)
    for path in (f"/t/{ids['territory']}/observatory", f"/t/{ids['territory']}/observatory/dictionary"):
        page.goto(f"{live_server.url}{path}")
        assert axe_violations(page, axe_source) == [], path
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
