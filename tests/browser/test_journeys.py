"""The journeys of the people BadgeHub serves, in a real browser, starting at ``/`` and only clicking (and
typing into forms); the only addresses opened by hand are the links an e-mail gives.

Each journey runs in English and in French on a phone (390×844). At every step the page is also looked at on a
laptop (1280×900): both are saved as screenshots (``tests/browser/screenshots/``, or ``BADGEHUB_SCREENSHOTS``)
and axe must find no WCAG 2.1 A/AA violation on either. The number of clicks of each journey is asserted, so
that a page that grows a step shows up here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import current_app
from flask_babel import force_locale, gettext, ngettext, pgettext

from badgehub.accounts.service import change_password, create_user
from badgehub.extensions import db
from badgehub.mail import read_outbox
from tests.browser import test_verify_browser
from tests.browser.conftest import LiveServer
from tests.browser.test_verify_browser import axe_violations
from tests.conftest import links_in
from tests.factories import build_world
from tests.unit.printing.pdftools import decode_pdf_qr

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 900}
PASSWORD = "a long pass phrase 42"
axe_source = test_verify_browser.axe_source  # the fixture, shared
SHOTS = Path(os.environ.get("BADGEHUB_SCREENSHOTS") or Path(__file__).resolve().parent / "screenshots")


class Journey:
    """One person's path: counts clicks, and at each step saves both screenshots and runs axe on both."""

    def __init__(self, page: Any, server: LiveServer, axe: str, name: str, lang: str) -> None:
        self.page, self.server, self.axe, self.lang = page, server, axe, lang
        self.folder = SHOTS / f"{name}-{lang}"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.clicks, self.steps = 0, 0

    def t(self, text: str, **values: Any) -> str:
        with self.server.app.test_request_context(), force_locale(self.lang):
            return gettext(text, **values)

    def pt(self, context: str, text: str) -> str:
        with self.server.app.test_request_context(), force_locale(self.lang):
            return pgettext(context, text)

    def click(self, locator: Any) -> None:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            locator.click()
        except PlaywrightTimeout as error:
            # Say what the page showed instead: a screenshot left on a CI machine is out of reach.
            shown = self.page.locator("body").inner_text(timeout=2_000)[:3_000]
            raise AssertionError(f"{error.message}\n--- {self.page.url} showed:\n{shown}") from error
        self.clicks += 1
        self.page.wait_for_load_state()

    def menu(self, name: str) -> None:
        """Follow a link of the header, opening the phone menu first (two clicks)."""
        self.click(self.page.get_by_role("button", name=self.t("Menu")))
        self.click(self.page.locator("#site-menu").get_by_role("link", name=self.t(name), exact=True))

    def step(self, name: str) -> None:
        self.steps += 1
        for size, viewport in (("phone", PHONE), ("laptop", LAPTOP)):
            self.page.set_viewport_size(viewport)
            path = self.folder / f"{self.steps:02d}-{name}-{size}.jpg"
            # JPEG: the journeys' screenshots are for people to look at, and Chromium writes a full page as a JPEG
            # in a third of the time it takes for a PNG (the journeys ran 15 % faster).
            self.page.screenshot(path=str(path), full_page=True, type="jpeg", quality=85)
            assert axe_violations(self.page, self.axe) == [], (name, size, self.page.url)
            if size == "phone":
                assert self.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
            assert self.small_targets() == [], (name, size)
            assert self.unstyled_fields() == [], (name, size)
        self.page.set_viewport_size(PHONE)

    def small_targets(self) -> list[str]:
        """Visible buttons (and links styled as buttons) under 44 px high: every one must be a 44 px target."""
        return list(self.page.evaluate("""() => [...document.querySelectorAll('button, .button, input[type=submit]')]
            .filter(e => !e.classList.contains('link-button') && e.offsetParent !== null)
            .filter(e => e.getBoundingClientRect().height < 44)
            .map(e => e.textContent.trim())"""))

    def unstyled_fields(self) -> list[str]:
        """Visible text fields and lists left at the browser's look (about 20 px high, a hairline border): every
        one must be a 44 px field like the design system's (issue 16: the credentials filter bar)."""
        return list(self.page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
            .filter(e => !['checkbox', 'radio', 'hidden', 'submit', 'file', 'color'].includes(e.type))
            .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 44)
            .map(e => e.id || e.name)"""))

    def finish(self) -> int:
        """Print the journey's clicks (and keep them beside the screenshots); returns them."""
        line = f"{self.folder.name}: {self.clicks} clicks, {self.steps} steps"
        print(line)
        (self.folder / "clicks.txt").write_text(line + "\n", encoding="utf-8")
        return self.clicks

    def start(self) -> None:
        self.page.goto(f"{self.server.url}/")
        self.choose_language()

    def choose_language(self) -> None:
        """Switch to the journey's language, and wait for the page in it: the switch is a form, and the click may
        return before the new page has come (a step then ran on the old page). On a loaded machine the answer
        has taken more than expect's 5 s (seen twice, in a second browser context), so the wait is longer."""
        from playwright.sync_api import expect

        if self.lang != "en":
            self.click(self.page.get_by_role("button", name="Français"))
            expect(self.page.locator("html")).to_have_attribute("lang", self.lang, timeout=30_000)

    def sign_in(self, email: str) -> None:
        self.menu("Sign in")
        self.page.locator("#email").fill(email)
        self.page.locator("#password").fill(PASSWORD)
        self.click(self.page.locator("form", has=self.page.locator("#password")).get_by_role("button"))


@pytest.fixture
def world(live_server: LiveServer) -> dict[str, Any]:
    with live_server.app.test_request_context():
        built = build_world()
        for user in (built.issuer_a, built.coordinator):
            change_password(user, current_password=None, new_password=PASSWORD)
        ids = built.ids()
        ids.update(issuer_email=built.issuer_a.email, coordinator_email=built.coordinator.email,
                   territory=built.territory.slug)
        db.session.commit()
        return ids


@pytest.fixture(params=["en", "fr"])
def lang(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def journey_page(page: Any) -> Iterator[Any]:
    page.set_default_timeout(10_000)
    yield page


@pytest.mark.browser
def test_an_association_awards_a_badge_two_clicks_after_signing_in(journey_page, live_server, world, axe_source,
                                                                   lang, tmp_path):
    from playwright.sync_api import expect

    page = journey_page
    journey = Journey(page, live_server, axe_source, "association", lang)
    journey.start()
    journey.step("home")
    journey.sign_in(world["issuer_email"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Atelier Vélo")
    journey.step("dashboard")
    before = journey.clicks
    journey.click(page.get_by_role("link", name=journey.pt("verb, a button", "Award") + " — Réparer une crevaison"))
    assert journey.clicks - before == 1  # "Award" is one click from the dashboard, where sign-in lands
    journey.step("award-form")
    page.get_by_label(journey.t("E-mail address of the person")).fill("lea@example.net")
    page.get_by_label(journey.t("Their name (optional)")).fill("Léa Martin")
    journey.click(page.get_by_role("button", name=journey.t("Award the badge")))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Léa Martin")
    journey.step("awarded")
    # Then a whole list, from the same dashboard.
    journey.click(page.get_by_role("link", name=journey.t("Back to the dashboard")))
    journey.click(page.get_by_role("link", name=journey.t("Award to a list") + " — Réparer une crevaison"))
    journey.step("award-to-a-list")
    # The list, as a spreadsheet saves it; choosing the file is one tap on the field.
    upload = tmp_path / "atelier-samedi.csv"
    upload.write_text("Prénom;Nom;Courriel\r\nSam;Durand;sam@example.net\r\nZoé;Petit;zoe@example.net\r\n",
                      encoding="utf-8")
    page.get_by_label(journey.t("CSV file")).set_input_files(str(upload))
    journey.clicks += 1
    journey.click(page.get_by_role("button", name=journey.t("Check the list")))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Réparer une crevaison")
    journey.step("list-preview")
    with live_server.app.test_request_context(), force_locale(lang):
        confirm = ngettext("Award the badge to %(num)s person", "Award the badge to %(num)s people", 2)
        done = ngettext("%(num)s badge was awarded; the people were sent an e-mail.",
                        "%(num)s badges were awarded; the people were sent an e-mail.", 2)
    journey.click(page.get_by_role("button", name=confirm))
    expect(page.get_by_text(done)).to_be_visible()
    journey.step("list-awarded")
    # Everything awarded, found with the filter bar.
    journey.click(page.get_by_role("link", name=journey.t("Lists of participants")))
    journey.click(page.get_by_role("link", name=journey.t("Badges awarded"), exact=True))
    page.get_by_label(journey.t("E-mail or name")).fill("zoe")
    journey.click(page.locator("form[role=search]").get_by_role("button", name=journey.t("Search")))
    expect(page.locator("tbody tr")).to_have_count(1)
    journey.step("badges-awarded")
    assert sorted(message["To"] for message in read_outbox(live_server.outbox)) == [
        "lea@example.net", "sam@example.net", "zoe@example.net"]
    # Menu, Sign in, Sign in (the form), Award, Award the badge, Back to the dashboard, Award to a list, the file,
    # Check the list, Award the badge to 2 people, Lists of participants, Badges awarded, Search; and the language.
    assert journey.finish() == (13 if lang == "en" else 14)


@pytest.mark.browser
def test_a_learner_keeps_the_badge_from_the_e_mail_downloads_it_and_shares_a_link(journey_page, live_server, world,
                                                                                 axe_source, lang):
    from playwright.sync_api import expect

    from badgehub.achievements.service import public_achievement
    from badgehub.issuing import service as issuing
    from badgehub.mails.awards import notify_recipient

    with live_server.app.test_request_context():
        achievement = public_achievement(world["repair"])
        credential = issuing.issue_credential(organisation=achievement.organisation, achievement=achievement,
                                              recipient_email="lea@example.net", recipient_name="Léa Martin",
                                              actor_id=None, source="cli", config=current_app.config)
        db.session.commit()
        public_id = credential.public_id
        notify_recipient(credential, live_server.app.config)
    [message] = read_outbox(live_server.outbox)
    html = message.get_body(preferencelist=("html",)).get_content()
    [keep] = [link for link in links_in(message) if "/keep/" in link]
    assert keep in html

    page = journey_page
    journey = Journey(page, live_server, axe_source, "learner", lang)
    # The award e-mail itself, as a mail program shows its HTML part.
    page.set_content(html)
    journey.step("award-mail")
    page.goto(keep)  # the e-mailed link
    journey.choose_language()
    journey.step("keep")
    journey.click(page.get_by_role("button", name=journey.t("See and keep your badge")))
    expect(page.get_by_role("heading", level=2, name="Réparer une crevaison")).to_be_visible()
    journey.step("in-the-wallet")
    # The PDF opens in the browser's viewer; what matters here is the file that link gives.
    pdf_link = page.get_by_role("link", name=journey.t("A certificate to print (PDF)"))
    pdf = page.request.get(live_server.url + pdf_link.get_attribute("href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    certificate = pdf.body()
    journey.click(page.get_by_role("link", name=journey.t("Share links"), exact=True))
    journey.step("share-links")
    page.get_by_label(journey.t("Title of the link")).fill("Candidature")
    page.get_by_label("Réparer une crevaison — Atelier Vélo").check()
    journey.click(page.get_by_role("button", name=journey.t("Make the link")))
    expect(page.get_by_text("/w/").first).to_be_visible()
    journey.step("shared")
    share_link = page.locator("a", has_text="/w/").first.get_attribute("href")
    # See and keep, Share links, Make the link (and the language).
    assert journey.finish() == (3 if lang == "en" else 4)

    # An employer scans the certificate's QR code with a phone, reads the verdict and checks the holder.
    [scanned] = decode_pdf_qr(certificate)
    assert scanned == f"{live_server.url}/c/{public_id}"
    employer = journey_page.context.browser.new_context(locale="fr-FR" if lang == "fr" else "en-GB", viewport=PHONE)
    try:
        phone = employer.new_page()
        check = Journey(phone, live_server, axe_source, "employer", lang)
        phone.goto(scanned)
        expect(phone.locator(".badge-hero-name")).to_have_text("Réparer une crevaison")
        expect(phone.locator("#verdict-title")).to_contain_text(check.t("Valid"))
        check.step("verdict")
        phone.get_by_label(check.t("E-mail address the holder gave you")).fill("Lea@Example.net")
        check.click(phone.get_by_role("button", name=check.t("Check the holder")))
        expect(phone.locator("#holder-answer")).to_be_visible()
        check.step("holder-checked")
        # The link the learner sent with an application: the badge opened from it names its holder.
        phone.goto(share_link)
        check.step("share-link")
        check.click(phone.get_by_role("link", name="Réparer une crevaison"))
        expect(phone.locator(".badge-hero-holder")).to_have_text(check.t("Awarded to %(name)s", name="Léa Martin"))
        check.step("badge-from-the-share-link")
        # Check the holder, the badge on the share page.
        assert check.finish() == 2
    finally:
        employer.close()


@pytest.mark.browser
def test_a_coordinator_approves_and_suspends_members_then_opens_the_observatory(journey_page, live_server, world,
                                                                              axe_source, lang):
    from playwright.sync_api import expect

    from badgehub.organisations.service import ProfileFields, create_organisation
    from badgehub.territory.service import get_territory_by_slug, request_membership

    with live_server.app.test_request_context():
        owner = create_user("owner-new@example.org", name="Nouvelle", verified=True)
        newcomer = create_organisation(owner, ProfileFields(name="Repair Café", type="association",
                                                            sector="community"), config=current_app.config)
        request_membership(newcomer, get_territory_by_slug(world["territory"]), owner, "Bonjour")
        db.session.commit()

    page = journey_page
    journey = Journey(page, live_server, axe_source, "coordinator", lang)
    journey.start()
    journey.sign_in(world["coordinator_email"])
    expect(page.get_by_role("heading", level=1)).to_have_text(journey.t("Coordination"))
    journey.step("coordination")
    journey.click(page.get_by_role("link", name="Évry").first)
    journey.step("members-and-requests")
    journey.click(page.get_by_role("button", name=journey.t("Approve") + " Repair Café"))
    expect(page.get_by_text(journey.t("%(organisation)s: %(decision)s.", organisation="Repair Café",
                                      decision=journey.t("Approved")))).to_be_visible()
    journey.step("approved")
    # Members are a table with a search; each row's decision folds behind "Decide".
    page.get_by_label(journey.t("Find a member")).fill("Biblio")
    journey.click(page.get_by_role("button", name=journey.t("Search"), exact=True))
    expect(page.locator(".members-table tbody tr")).to_have_count(1)
    journey.click(page.get_by_text(journey.t("Decide")))
    row = page.locator("tr", has=page.get_by_role("button", name=journey.t("Suspend") + " Bibliothèque"))
    row.get_by_role("textbox").fill("Badges sans rapport avec l'activité")
    journey.click(page.get_by_role("button", name=journey.t("Suspend") + " Bibliothèque"))
    journey.step("suspended")
    journey.click(page.get_by_role("link", name=journey.t("Observatory"), exact=True))
    journey.step("observatory")
    # Menu, Sign in, the form, Évry, Approve, Search, Decide, Suspend, Observatory (and the language).
    assert journey.finish() == (9 if lang == "en" else 10)


@pytest.mark.browser
def test_the_styleguide_shows_every_component_in_both_languages_and_passes_axe(journey_page, live_server,
                                                                              axe_source, lang):
    live_server.app.debug = True
    try:
        journey = Journey(journey_page, live_server, axe_source, "styleguide", lang)
        journey_page.goto(f"{live_server.url}/_styleguide")
        journey.choose_language()
        journey.step("components")
    finally:
        live_server.app.debug = False


@pytest.mark.browser
def test_the_claim_e_mails_render_in_a_browser_and_pass_axe(journey_page, live_server, world, axe_source, lang):
    import datetime as dt

    from badgehub.claims import service as claims
    from badgehub.db import utcnow
    from badgehub.organisations.service import get_organisation_by_slug, members_of
    from tests.conftest import token_of

    with live_server.app.test_request_context():
        organisation = get_organisation_by_slug(world["a"])
        now = utcnow()
        code = claims.create_campaign(organisation, members_of(organisation)[0].user, claims.CampaignFields(
            achievement_public_id=world["repair"], title="Fête du vélo", opens_at=now - dt.timedelta(hours=1),
            closes_at=now + dt.timedelta(hours=3), max_claims=None), now=now).short_code
        db.session.commit()
    participant = live_server.app.test_client()
    participant.post("/language", data={"locale": lang, "next": "/", "csrf_token": token_of(participant, "/")})

    def ask() -> Any:
        return participant.post(f"/claim/{code}", data={
            "csrf_token": token_of(participant, f"/claim/{code}"), "email": "lea@example.net", "name": "Léa",
            "submit": "1"})

    journey = Journey(journey_page, live_server, axe_source, "claim-mails", lang)
    ask()
    [link_mail] = read_outbox(live_server.outbox)
    journey_page.set_content(link_mail.get_body(preferencelist=("html",)).get_content())
    journey.step("claim-link-mail")
    [confirm] = [link for link in links_in(link_mail) if "/confirm/" in link]
    path = confirm.removeprefix(live_server.url)
    participant.post(path, data={"csrf_token": token_of(participant, path), "submit": "1"})
    ask()
    # The award e-mail (with the badge attached) came in between; the last one says it is already claimed.
    already = read_outbox(live_server.outbox)[-1]
    assert not any(part.get_filename() for part in already.iter_attachments())
    journey_page.set_content(already.get_body(preferencelist=("html",)).get_content())
    journey.step("already-claimed-mail")
    journey.finish()
