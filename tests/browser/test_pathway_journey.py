"""A learner completes a pathway in a real browser, starting at ``/`` and only clicking (and typing into forms),
in English and in French, on a phone, each step axe-clean on a phone and a laptop (the Journey helper of
test_journeys.py).

The learner's wallet shows the pathway at 1 of 2 with what to earn next and where; the pathway's page lists the
steps; the workshop's issuer awards the missing badge through the award form; the learner's wallet then shows the
pathway completed and its badge, awarded automatically, signed by the workshop, and e-mailed.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import current_app

from badgehub.accounts.service import change_password, create_user
from badgehub.achievements import service as achievements
from badgehub.extensions import db
from badgehub.issuing import service as issuing
from badgehub.jobs.tasks import send_mail
from badgehub.mail import read_outbox
from badgehub.pathways import service as pathways
from tests.browser import test_journeys
from tests.browser.conftest import LiveServer
from tests.browser.test_journeys import PASSWORD, Journey
from tests.factories import BADGE_PNG, build_world

pytestmark = pytest.mark.browser
axe_source, journey_page, lang = test_journeys.axe_source, test_journeys.journey_page, test_journeys.lang
PATHWAY_BADGE = "Mécanicien de quartier"


@pytest.fixture
def world(live_server: LiveServer) -> dict[str, Any]:
    with live_server.app.test_request_context():
        built = build_world()
        lea = create_user("lea@example.net", name="Léa Martin", verified=True)
        for user in (built.issuer_a, lea):
            change_password(user, current_password=None, new_password=PASSWORD)
        final = achievements.create_achievement(built.a, built.owner_a, achievements.AchievementFields(
            name=PATHWAY_BADGE, description="A suivi le parcours mécanique de l'atelier.",
            criteria_md="Terminer le parcours.", in_language="fr"), achievements.UploadedImage(BADGE_PNG))
        pathway = pathways.create_pathway(built.a, built.owner_a, pathways.PathwayFields(
            name="Parcours mécanique", description="De la rustine à l'animation d'atelier.", in_language="fr",
            achievement=final.public_id,
            groups=(pathways.GroupInput(title="L'atelier", achievements=(
                built.repair.public_id, built.workshop.public_id)),)))
        pathways.set_status(pathway, built.owner_a, "published")
        issuing.issue_credential(organisation=built.a, achievement=built.repair, recipient_email="lea@example.net",
                                 recipient_name="Léa Martin", actor_id=None, source="single",
                                 config=current_app.config)
        ids = built.ids()
        ids.update(issuer_email=built.issuer_a.email, pathway=pathway.public_id)
        db.session.commit()
        return ids


def test_a_learner_completes_a_pathway_and_receives_its_badge(
        browser: Any, journey_page: Any, live_server: LiveServer, world: dict[str, Any], axe_source: str,
        lang: str) -> None:
    from playwright.sync_api import expect

    page = journey_page
    learner = Journey(page, live_server, axe_source, "pathway-learner", lang)
    learner.start()
    learner.sign_in("lea@example.net")
    learner.menu("My wallet")
    card = page.locator(f"#wallet-pathway-{world['pathway']}")
    expect(card).to_contain_text(learner.t("%(counted)d of %(needed)d badges", counted=1, needed=2))
    expect(card.get_by_role("link", name="Animer un atelier")).to_be_visible()
    expect(card.get_by_role("link", name="Atelier Vélo")).to_be_visible()  # where to earn it
    learner.click(card.get_by_text(learner.t("What to earn next, and where")))
    learner.step("wallet-progress")
    learner.click(card.get_by_role("link", name="Parcours mécanique"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Parcours mécanique")
    expect(page.get_by_text(learner.t("You have %(counted)d of the %(needed)d badges this pathway asks for.",
                                      counted=1, needed=2))).to_be_visible()
    learner.step("pathway-page")

    context = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844})
    try:
        other = context.new_page()
        other.set_default_timeout(10_000)
        issuer = Journey(other, live_server, axe_source, "pathway-issuer", lang)
        issuer.start()
        issuer.sign_in(world["issuer_email"])
        issuer.click(other.get_by_role("link", name=issuer.pt("verb, a button", "Award") + " — Animer un atelier"))
        other.get_by_label(issuer.t("E-mail address of the person")).fill("lea@example.net")
        other.get_by_label(issuer.t("Their name (optional)")).fill("Léa Martin")
        issuer.click(other.get_by_role("button", name=issuer.t("Award the badge")))
        expect(other.get_by_role("heading", level=1)).to_contain_text("Léa Martin")
        issuer.step("awarded")
    finally:
        context.close()

    learner.menu("My wallet")
    card = page.locator(f"#wallet-pathway-{world['pathway']}")
    expect(card).to_contain_text(learner.t("Completed"))
    learner.step("wallet-completed")
    learner.click(card.get_by_role("link", name=learner.t("Its badge: %(name)s", name=PATHWAY_BADGE)))
    expect(page.get_by_role("heading", level=1)).to_contain_text(learner.t("Valid"))
    expect(page.locator("main")).to_contain_text(PATHWAY_BADGE)
    learner.step("pathway-badge")
    with live_server.app.app_context():
        send_mail()  # the outbox's job, which the background sender runs outside tests
    sent = [message for message in read_outbox(live_server.outbox) if PATHWAY_BADGE in message["Subject"]]
    assert [message["To"] for message in sent] == ["lea@example.net"]
    # Menu, Sign in, Sign in (the form), Menu, My wallet, the details, the pathway; Menu, My wallet, its badge;
    # and the language.
    assert learner.finish() == (10 if lang == "en" else 11)


def test_an_organisation_defines_and_publishes_a_pathway(journey_page: Any, live_server: LiveServer,
                                                        axe_source: str, lang: str) -> None:
    from playwright.sync_api import expect

    with live_server.app.test_request_context():
        built = build_world()
        change_password(built.owner_a, current_password=None, new_password=PASSWORD)
        owner_email, repair, reading = built.owner_a.email, built.repair.public_id, built.reading.public_id
        workshop = built.workshop.public_id
        db.session.commit()
    page = journey_page
    owner = Journey(page, live_server, axe_source, "pathway-owner", lang)
    owner.start()
    owner.sign_in(owner_email)
    owner.click(page.get_by_role("navigation", name=owner.t("Organisation pages"))
                .get_by_role("link", name=owner.t("Pathways")))
    owner.click(page.get_by_role("link", name=owner.t("Create a pathway")))
    owner.step("new-pathway")
    page.get_by_label(owner.t("Name of the pathway")).fill("Parcours atelier")
    page.locator("#groups-0-step-1").select_option(repair)
    page.locator("#groups-0-step-2").select_option(reading)
    page.get_by_label(owner.t("Badge awarded on completion")).select_option(workshop)
    owner.click(page.get_by_role("button", name=owner.t("Save the pathway")))
    owner.step("pathways")
    owner.click(page.get_by_role("button", name=owner.t("Publish") + " — Parcours atelier"))
    expect(page.get_by_text(owner.t("The pathway is published: learners see it and its badge is awarded on "
                                    "completion."))).to_be_visible()
    owner.click(page.get_by_role("link", name="Parcours atelier", exact=True))
    expect(page.get_by_role("heading", level=1)).to_have_text("Parcours atelier")
    expect(page.get_by_role("link", name="Club de lecture")).to_be_visible()
    owner.step("pathway-page")
    # Menu, Sign in, Sign in (the form), Pathways, Create a pathway, Save, Publish, the pathway; and the language.
    assert owner.finish() == (8 if lang == "en" else 9)
