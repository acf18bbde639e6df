"""A person signs in with an e-mailed link in a real browser, then switches the site to French."""

from __future__ import annotations

import pytest
from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import select

from badgehub.accounts.models import User
from badgehub.accounts.service import create_user
from badgehub.extensions import db
from badgehub.mail import read_outbox
from tests.browser.test_verify_browser import axe_source
from tests.conftest import links_in

__all__ = ["axe_source"]  # the fixture, imported so that this module can use it

EMAIL = "Camille.Martin@example.org"


@pytest.mark.browser
def test_sign_in_with_an_e_mailed_link_then_switch_to_french(page, live_server):
    from playwright.sync_api import expect

    with live_server.app.app_context():
        create_user(EMAIL, name="Camille Martin", verified=True)
        db.session.commit()

    page.goto(f"{live_server.url}/sign-in")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.locator("#link-email").fill("camille.martin@EXAMPLE.org")
    page.get_by_role("button", name="E-mail me a sign-in link").click()
    page.wait_for_url("**/sign-in/check-your-mail")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your mailbox")

    [message] = read_outbox(live_server.outbox)
    assert message["To"] == EMAIL
    [link] = [link for link in links_in(message) if "/sign-in/link/" in link]
    assert link.startswith(f"{live_server.url}/sign-in/link/")

    page.goto(link)
    expect(page.get_by_text(f"You are about to sign in as {EMAIL}.")).to_be_visible()
    page.get_by_role("button", name="Sign in", exact=True).click()
    # A learner (no organisation, no territory) lands on the wallet; on a phone the menu is folded.
    page.wait_for_url("**/wallet")
    expect(page.get_by_role("heading", level=1)).to_have_text("My wallet")
    expect(page.get_by_role("button", name="Sign out", exact=True)).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("button", name="Sign out", exact=True)).to_be_visible()
    expect(page.get_by_text("You are signed in.")).to_be_visible()

    page.get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert page.url == f"{live_server.url}/wallet"
    with live_server.app.test_request_context(), force_locale("fr"):
        heading, sign_out = gettext("My wallet"), gettext("Sign out")
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("button", name=sign_out, exact=True)).to_be_visible()
    with live_server.app.app_context():
        assert db.session.scalar(select(User.locale).where(User.email_key == EMAIL.lower())) == "fr"

    # The link was used up: opening it again says so, in French now.
    page.goto(link)
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    with live_server.app.test_request_context(), force_locale("fr"):
        used = gettext("This link has already been used. Each link works only once: ask for a new one.")
    expect(page.get_by_role("alert")).to_have_text(used)


@pytest.mark.browser
def test_the_account_page_lists_devices_and_signs_one_out_on_a_phone(page, live_server, axe_source):
    from playwright.sync_api import expect

    from badgehub.accounts.service import issue_sign_in_link
    from badgehub.accounts.sessions import open_session
    from tests.browser.test_verify_browser import axe_violations

    with live_server.app.test_request_context():
        user = create_user("devices@example.org", name="Dominique", verified=True)
        open_session(user, remember=True, user_agent="Mozilla/5.0 (Windows NT 10.0) Firefox/130.0")
        link = issue_sign_in_link(user, config=current_app.config).token
        db.session.commit()
    page.goto(f"{live_server.url}/sign-in/link/{link}")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/wallet")  # a learner lands on the wallet
    page.goto(f"{live_server.url}/account")
    expect(page.get_by_text("this device", exact=True)).to_be_visible()
    expect(page.get_by_text("Firefox on Windows")).to_be_visible()
    assert axe_violations(page, axe_source) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="Sign out this device: Firefox on Windows").click()
    expect(page.get_by_text("That device is signed out.")).to_be_visible()
    expect(page.get_by_text("Firefox on Windows")).to_have_count(0)
