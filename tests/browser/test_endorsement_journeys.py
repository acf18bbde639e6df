"""Endorsement journeys in a real browser, starting at ``/`` and only clicking (and typing into forms); the only
address opened by hand is the invitation link a learner hands to someone. In English and in French, on a phone,
each step axe-clean on a phone and a laptop (the Journey helper of test_journeys.py).

* The library endorses the workshop's badge and the endorsement shows, with its verdict, on the badge's page.
* A learner makes an invitation link; the library's owner opens it, signs in and endorses; the learner shows the
  endorsement, and it appears on the badge's public page /c/<id>.
* The same with a person who belongs to no organisation: they endorse in their own name (the form's default),
  signed by their own issuer, and the endorsement shows on /c/<id> with its verdict under the name they chose.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import current_app

from badgehub.accounts.service import change_password, create_user
from badgehub.extensions import db
from badgehub.issuing import service as issuing
from tests.browser import test_journeys
from tests.browser.conftest import LiveServer
from tests.browser.test_journeys import PASSWORD, Journey
from tests.factories import build_world

pytestmark = pytest.mark.browser
# The fixtures of test_journeys.py, shared.
axe_source, journey_page, lang = test_journeys.axe_source, test_journeys.journey_page, test_journeys.lang


@pytest.fixture
def world(live_server: LiveServer) -> dict[str, Any]:
    with live_server.app.test_request_context():
        built = build_world()
        lea = create_user("lea@example.net", name="Léa Martin", verified=True)
        sam = create_user("sam@example.net", name="Sam Martin", verified=True)  # belongs to no organisation
        for user in (built.owner_b, lea, sam):
            change_password(user, current_password=None, new_password=PASSWORD)
        credential = issuing.issue_credential(organisation=built.a, achievement=built.repair,
                                              recipient_email="lea@example.net", recipient_name="Léa Martin",
                                              actor_id=None, source="single", config=current_app.config)
        ids = built.ids()
        ids.update(owner_b_email=built.owner_b.email, territory_name=built.territory.name,
                   credential=credential.public_id)
        db.session.commit()
        return ids


def test_an_organisation_endorses_another_s_badge_and_it_shows_on_the_badge_s_page(
        journey_page: Any, live_server: LiveServer, world: dict[str, Any], axe_source: str, lang: str) -> None:
    page = journey_page
    journey = Journey(page, live_server, axe_source, "endorse-badge", lang)
    journey.start()
    journey.click(page.get_by_role("link", name=world["territory_name"]).first)
    journey.click(page.locator("a[href$='/badges']").first)
    journey.click(page.get_by_role("link", name="Réparer une crevaison"))
    journey.click(page.get_by_role("link", name=journey.t("Endorse this badge")))
    page.locator("#email").fill(world["owner_b_email"])  # signing in leads back to the form
    page.locator("#password").fill(PASSWORD)
    journey.click(page.locator("form", has=page.locator("#password")).get_by_role("button"))
    journey.step("endorse-form")
    page.get_by_label(journey.t("What you vouch for")).fill("Nous avons vu ces ateliers : du vrai travail.")
    journey.click(page.get_by_role("button", name=journey.t("Sign the endorsement")))
    section = page.locator("section.endorsements")
    assert "Nous avons vu ces ateliers" in section.inner_text()
    assert "Bibliothèque" in section.inner_text()
    assert journey.t("Valid") in section.inner_text()
    journey.step("badge-with-endorsement")
    assert journey.clicks == (6 if lang == "en" else 7)


def test_a_learner_invites_an_endorsement_by_link_and_shows_it_on_the_badge_s_page(
        browser: Any, journey_page: Any, live_server: LiveServer, world: dict[str, Any], axe_source: str,
        lang: str) -> None:
    page = journey_page
    learner = Journey(page, live_server, axe_source, "invite-endorsement", lang)
    learner.start()
    learner.sign_in("lea@example.net")
    learner.menu("My wallet")
    learner.click(page.get_by_role("link", name="Réparer une crevaison").first)
    learner.click(page.get_by_role("link", name=learner.t("Endorsements of this badge")))
    page.get_by_label(learner.t("A word for the person you ask (optional)")).fill("Vous m'avez vue animer l'atelier.")
    learner.click(page.get_by_role("button", name=learner.t("Make a link to ask for an endorsement")))
    link = page.locator("#invitation-link").input_value()
    learner.step("invitation-link")

    context = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844})
    try:
        other = context.new_page()
        other.set_default_timeout(10_000)
        endorser = Journey(other, live_server, axe_source, "invited-endorser", lang)
        other.goto(link)  # the link the learner handed over
        endorser.choose_language()
        other.locator("#email").fill(world["owner_b_email"])
        other.locator("#password").fill(PASSWORD)
        endorser.click(other.locator("form", has=other.locator("#password")).get_by_role("button"))
        endorser.step("invitation")
        other.get_by_label(endorser.t("What you vouch for")).fill("Elle a animé trois ateliers pour débutants.")
        endorser.click(other.get_by_role("button", name=endorser.t("Sign the endorsement")))
    finally:
        context.close()

    page.reload()
    learner.click(page.get_by_role("button", name=learner.t("Show it on the badge's page") + " — Bibliothèque"))
    learner.click(page.get_by_role("link", name=learner.t("Back to the badge")))
    learner.click(page.locator("a.break").first)
    section = page.locator("section.endorsements")
    assert "Elle a animé trois ateliers pour débutants." in section.inner_text()
    assert learner.t("Valid") in section.inner_text()
    learner.step("credential-page-with-endorsement")


def _invitation_link(page: Any, learner: Journey) -> str:
    learner.start()
    learner.sign_in("lea@example.net")
    learner.menu("My wallet")
    learner.click(page.get_by_role("link", name="Réparer une crevaison").first)
    learner.click(page.get_by_role("link", name=learner.t("Endorsements of this badge")))
    learner.click(page.get_by_role("button", name=learner.t("Make a link to ask for an endorsement")))
    link: str = page.locator("#invitation-link").input_value()
    learner.step("invitation-link")
    return link


def test_a_person_without_organisation_endorses_in_their_own_name_and_the_learner_shows_it(
        browser: Any, journey_page: Any, live_server: LiveServer, world: dict[str, Any], axe_source: str,
        lang: str) -> None:
    page = journey_page
    learner = Journey(page, live_server, axe_source, "own-name-endorsement", lang)
    link = _invitation_link(page, learner)

    context = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844})
    try:
        other = context.new_page()
        other.set_default_timeout(10_000)
        endorser = Journey(other, live_server, axe_source, "own-name-endorser", lang)
        other.goto(link)  # the link the learner handed over
        endorser.choose_language()
        other.locator("#email").fill("sam@example.net")
        other.locator("#password").fill(PASSWORD)
        endorser.click(other.locator("form", has=other.locator("#password")).get_by_role("button"))
        endorser.step("invitation-own-name")
        chosen = other.get_by_label(endorser.t("Endorse in the name of"))
        assert chosen.input_value() == "@me"
        assert endorser.t("In my own name") in chosen.inner_text()
        name = other.get_by_label(endorser.t("Your name as shown with the endorsement"))
        assert name.input_value() == "Sam Martin"
        name.fill("Sam M.")
        other.get_by_label(endorser.t("What you vouch for")).fill("Je l'ai vue animer trois ateliers.")
        endorser.click(other.get_by_role("button", name=endorser.t("Sign the endorsement")))
        assert endorser.t("Thank you: your endorsement is signed. The holder of the badge decides whether to show it."
                          ) in other.locator("body").inner_text()
        endorser.step("signed-in-own-name")
    finally:
        context.close()

    page.reload()
    learner.click(page.get_by_role("button", name=learner.t("Show it on the badge's page") + " — Sam M."))
    learner.click(page.get_by_role("link", name=learner.t("Back to the badge")))
    learner.click(page.locator("a.break").first)
    section = page.locator("section.endorsements")
    assert "Je l'ai vue animer trois ateliers." in section.inner_text()
    assert "Sam M." in section.inner_text() and "sam@example.net" not in section.inner_text()
    assert learner.t("Valid") in section.inner_text()
    learner.step("credential-page-with-own-name-endorsement")
