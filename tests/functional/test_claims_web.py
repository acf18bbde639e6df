"""Claim campaigns through the browser's eyes: the staff pages, the poster, and a participant's phone from the
poster to the badge (through the e-mailed link), with every refusal said plainly."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from badgehub.accounts.service import get_user_by_email
from badgehub.claims import service as claims
from badgehub.claims.models import Claim, ClaimCampaign, ClaimState
from badgehub.db import utcnow
from badgehub.extensions import db
from badgehub.issuing.models import CredentialSource, IssuedCredential
from badgehub.organisations.service import get_organisation_by_slug, members_of
from badgehub.territory.service import decide_membership, memberships_of
from tests.conftest import csrf_token_from, links_in, sign_in, token_of
from tests.factories import world_ids
from tests.unit.printing.pdftools import decode_pdf_qr, decode_png_qr, flat, pdf_text

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def world(snapshot: Any) -> dict[str, Any]:
    return snapshot(world_ids)


def make_campaign(setup: Any, world: dict[str, Any], *, opens: dt.timedelta = -HOUR, closes: dt.timedelta = 3 * HOUR,
                  cap: int | None = None, organisation: str = "a", badge: str = "repair") -> dict[str, Any]:
    def run() -> dict[str, Any]:
        org = get_organisation_by_slug(world[organisation])
        actor = members_of(org)[0].user
        now = utcnow()
        campaign = claims.create_campaign(org, actor, claims.CampaignFields(
            achievement_public_id=world[badge], title="Atelier du samedi", opens_at=now + opens,
            closes_at=now + closes, max_claims=cap), now=now)
        return {"id": campaign.id, "code": campaign.short_code}

    return setup(run)


def ask(client: FlaskClient, code: str, email: str, name: str = "") -> Any:
    token = csrf_token_from(client.get(f"/claim/{code}").get_data(as_text=True))
    return client.post(f"/claim/{code}", data={"csrf_token": token, "email": email, "name": name, "submit": "1"})


def claim_link(outbox: Any, address: str) -> str:
    mails = [mail for mail in outbox() if mail["To"] == address]
    assert mails, f"no e-mail to {address}"
    links = [link for link in links_in(mails[-1]) if "/confirm/" in link]
    assert links, "the e-mail holds no confirmation link"
    return links[0].removeprefix("http://localhost")


def confirm(client: FlaskClient, path: str) -> Any:
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return client.post(path, data={"csrf_token": csrf_token_from(page.get_data(as_text=True)), "submit": "1"})


def awarded_mails(outbox: Any) -> list[Any]:
    """The e-mails that carry a badge (the baked image attached)."""
    return [mail for mail in outbox() if any(part.get_filename() for part in mail.iter_attachments())]


def count(query: Any, model: Any) -> int:
    return query(lambda: db.session.scalar(select(func.count()).select_from(model)))


# ------------------------------------------------------------------------------------------------- staff


def test_an_issuer_creates_a_campaign_and_sees_its_code(client, world, query):
    sign_in(client, world["issuer_a"])
    url = f"/organisations/{world['a']}/claims/new"
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Réparer une crevaison" in html and "Club de lecture" not in html
    response = client.post(url, data={
        "csrf_token": csrf_token_from(html), "achievement": world["repair"], "title": "Fête du vélo",
        "opens_at": "2026-01-01T10:00", "closes_at": (utcnow() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        "max_claims": "40", "notes": "Table à l'entrée", "submit": "1"})
    assert response.status_code == 302
    campaign = query(lambda: db.session.scalars(select(ClaimCampaign)).one())
    assert response.headers["Location"] == f"/organisations/{world['a']}/claims/{campaign.id}"
    assert (campaign.title, campaign.max_claims, campaign.opens_at) == (
        "Fête du vélo", 40, dt.datetime(2026, 1, 1, 10, tzinfo=dt.UTC))
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert campaign.short_code in detail and f"http://localhost/claim/{campaign.short_code}" in detail
    listing = client.get(f"/organisations/{world['a']}/claims").get_data(as_text=True)
    assert "Fête du vélo" in listing and "0 of 40" in listing


def test_the_campaign_page_says_nobody_claimed_or_how_many_wait_never_both(client, world, setup, outbox):
    # Issue 16: a new campaign's page said "0 claims wait…" and "Nobody has claimed…" together.
    campaign = make_campaign(setup, world)
    detail = f"/organisations/{world['a']}/claims/{campaign['id']}"
    sign_in(client, world["issuer_a"])
    empty = client.get(detail).get_data(as_text=True)
    assert "Nobody has claimed this badge yet." in empty and "wait" not in re.sub(r"<[^>]+>", " ", empty).lower()
    ask(client, campaign["code"], "sam@example.net")
    one = client.get(detail).get_data(as_text=True)
    assert "1 claim waits for its confirmation." in one and "Nobody has claimed" not in one


def test_the_window_is_typed_and_shown_in_the_site_time_zone(app, client, world, query, monkeypatch):
    # BADGEHUB_TIMEZONE=Europe/Paris, as Flask-Babel holds it once the app is made.
    monkeypatch.setattr(app.extensions["babel"], "default_timezone", "Europe/Paris")
    sign_in(client, world["issuer_a"])
    url = f"/organisations/{world['a']}/claims/new"
    response = client.post(url, data={
        "csrf_token": token_of(client, url), "achievement": world["repair"], "title": "Soirée réparation",
        "opens_at": "2030-01-10T18:00", "closes_at": "2030-01-10T20:30", "max_claims": "40", "submit": "1"})
    assert response.status_code == 302
    campaign = query(lambda: db.session.scalars(select(ClaimCampaign)).one())
    # 18:00 in Paris in January is 17:00 UTC.
    assert (campaign.opens_at, campaign.closes_at) == (dt.datetime(2030, 1, 10, 17, tzinfo=dt.UTC),
                                                       dt.datetime(2030, 1, 10, 19, 30, tzinfo=dt.UTC))
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    # Issue 16: moments name the zone they are told in.
    assert "January 10, 2030, from 6:00\u202fPM to 8:30\u202fPM CET" in detail
    assert "Europe/Paris" in client.get(url).get_data(as_text=True)  # the form says which zone it reads


def test_a_bad_window_is_explained_next_to_its_field(client, world, query):
    sign_in(client, world["issuer_a"])
    url = f"/organisations/{world['a']}/claims/new"
    response = client.post(url, data={
        "csrf_token": csrf_token_from(client.get(url).get_data(as_text=True)), "achievement": world["repair"],
        "opens_at": "2030-01-02T10:00", "closes_at": "2030-01-01T10:00", "max_claims": "0", "submit": "1"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "The cap is a whole number from 1" in html
    assert count(query, ClaimCampaign) == 0


def test_the_window_must_end_after_it_starts(client, world, query):
    sign_in(client, world["issuer_a"])
    url = f"/organisations/{world['a']}/claims/new"
    response = client.post(url, data={
        "csrf_token": csrf_token_from(client.get(url).get_data(as_text=True)), "achievement": world["repair"],
        "opens_at": "2030-01-02T10:00", "closes_at": "2030-01-01T10:00", "submit": "1"})
    assert response.status_code == 400
    assert "The end must come after the start." in response.get_data(as_text=True)
    assert count(query, ClaimCampaign) == 0


def test_viewers_read_campaigns_but_cannot_create_or_close_them(client, world, setup):
    campaign = make_campaign(setup, world)
    sign_in(client, world["viewer_a"])
    assert client.get(f"/organisations/{world['a']}/claims").status_code == 200
    assert client.get(f"/organisations/{world['a']}/claims/{campaign['id']}").status_code == 200
    assert client.get(f"/organisations/{world['a']}/claims/new").status_code == 403
    token = csrf_token_from(client.get(f"/organisations/{world['a']}/claims").get_data(as_text=True))
    assert client.post(f"/organisations/{world['a']}/claims/{campaign['id']}/close",
                       data={"csrf_token": token}).status_code == 403


def test_another_organisations_staff_get_404_everywhere(client, world, setup):
    campaign = make_campaign(setup, world)
    sign_in(client, world["owner_b"])
    base = f"/organisations/{world['a']}/claims"
    for url in (base, f"{base}/new", f"{base}/{campaign['id']}", f"{base}/{campaign['id']}/poster.pdf",
                f"{base}/{campaign['id']}/poster.png", f"{base}/{campaign['id']}/qr.svg"):
        assert client.get(url).status_code == 404, url
    # Their own organisation's address with A's campaign id: still nothing.
    other = f"/organisations/{world['b']}/claims/{campaign['id']}"
    assert client.get(other).status_code == 404
    token = csrf_token_from(client.get(f"/organisations/{world['b']}/claims").get_data(as_text=True))
    assert client.post(f"{other}/close", data={"csrf_token": token}).status_code == 404


def test_closing_early_is_one_click_and_stops_the_public_form(client, world, setup, query):
    campaign = make_campaign(setup, world)
    sign_in(client, world["issuer_a"])
    url = f"/organisations/{world['a']}/claims/{campaign['id']}"
    response = client.post(f"{url}/close", data={"csrf_token": csrf_token_from(client.get(url).get_data(as_text=True))})
    assert response.status_code == 302
    assert query(lambda: db.session.get(ClaimCampaign, campaign["id"]).closed_at) is not None
    page = client.get(f"/claim/{campaign['code']}").get_data(as_text=True)
    assert "This campaign is closed" in page and 'name="email"' not in page


def test_forms_without_csrf_token_are_refused(client, world, setup, query):
    campaign = make_campaign(setup, world)
    response = client.post(f"/claim/{campaign['code']}", data={"email": "lea@example.net", "submit": "1"})
    assert response.status_code == 400
    sign_in(client, world["issuer_a"])
    assert client.post(f"/organisations/{world['a']}/claims/{campaign['id']}/close").status_code == 400
    new = f"/organisations/{world['a']}/claims/new"
    assert client.post(new, data={"achievement": world["repair"]}).status_code == 400
    assert count(query, Claim) == 0
    assert query(lambda: db.session.get(ClaimCampaign, campaign["id"]).closed_at) is None


# ---------------------------------------------------------------------------------------------- participant


def test_a_participant_claims_through_the_emailed_link(client, world, setup, query, outbox):
    campaign = make_campaign(setup, world)
    page = client.get(f"/claim/{campaign['code']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Réparer une crevaison" in html and "Atelier Vélo" in html and 'name="email"' in html
    # Whoever has the code may claim: search engines are asked to keep the page to the event.
    assert page.headers["X-Robots-Tag"] == "noindex, nofollow" and 'content="noindex, nofollow"' in html
    response = ask(client, campaign["code"], "Lea@Example.net", "Léa Martin")
    assert response.status_code == 302 and response.headers["Location"] == f"/claim/{campaign['code']}/sent"
    assert "We have sent an e-mail to" in client.get(response.headers["Location"]).get_data(as_text=True)
    link = claim_link(outbox, "Lea@example.net")
    # Opening the link (a mail scanner does) issues nothing.
    shown = client.get(link)
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    assert "Get my badge" in shown.get_data(as_text=True)
    assert count(query, IssuedCredential) == 0
    done = confirm(client, link)
    assert done.status_code == 302 and done.headers["Location"] == link
    credential = query(lambda: db.session.scalars(select(IssuedCredential)).one())
    assert credential.source is CredentialSource.CLAIM and credential.recipient_name == "Léa Martin"
    final = client.get(link).get_data(as_text=True)
    assert f"http://localhost/c/{credential.public_id}" in final
    # One tap keeps it: the confirmation proved the address, so the button signs in (or creates the account).
    keep = re.search(r'<form method="post" action="(/keep/[^"]+)"', final)
    assert keep and "See and keep your badge" in final
    kept = client.post(keep.group(1), data={"csrf_token": csrf_token_from(final)})
    assert kept.status_code == 302 and kept.headers["Location"] == f"/wallet/c/{credential.public_id}"
    assert "Réparer une crevaison" in client.get(kept.headers["Location"]).get_data(as_text=True)
    awarded = awarded_mails(outbox)
    assert len(awarded) == 1 and awarded[0]["To"] == credential.recipient_email
    # The staff see the confirmed claim and its credential.
    sign_in(client, world["viewer_a"])
    staff = client.get(f"/organisations/{world['a']}/claims/{campaign['id']}").get_data(as_text=True)
    assert f"/organisations/{world['a']}/credentials/{credential.public_id}" in staff and "Léa Martin" in staff


def test_the_short_code_can_be_typed_in_any_case(client, world, setup):
    campaign = make_campaign(setup, world)
    typed = campaign["code"][:3].lower() + "-" + campaign["code"][3:].lower()
    response = client.get(f"/claim?code={typed}")
    assert response.status_code == 302 and response.headers["Location"] == f"/claim/{campaign['code']}"
    assert client.get(f"/claim/{campaign['code'].lower()}").headers["Location"] == f"/claim/{campaign['code']}"
    assert client.get("/claim").status_code == 200


def test_an_unknown_code_says_so(client, world):
    for url in ("/claim?code=ZZZZZZ", "/claim/ZZZZZZ", "/claim/%3Cscript%3E"):
        response = client.get(url)
        assert response.status_code == 404, url
        html = response.get_data(as_text=True)
        assert "There is no campaign with this code" in html and "<script>" not in html


def test_one_claim_per_address_and_the_form_does_not_tell_who_claimed(client, world, setup, query, outbox):
    campaign = make_campaign(setup, world)
    first = ask(client, campaign["code"], "lea@example.net")
    confirm(client, claim_link(outbox, "lea@example.net"))
    again = ask(client, campaign["code"], "LEA@example.net")
    stranger = ask(client, campaign["code"], "hugo@example.net")
    # The same answer for an address that claimed and one that never did.
    assert first.status_code == again.status_code == stranger.status_code == 302
    assert first.headers["Location"] == again.headers["Location"] == stranger.headers["Location"]
    assert count(query, IssuedCredential) == 1
    assert query(lambda: db.session.scalar(select(func.count(Claim.id)).where(Claim.email_key == "lea@example.net"))) \
        == 1
    already = [mail for mail in outbox() if mail["To"] == "LEA@example.net"]
    assert len(already) == 1 and "already" in already[0]["Subject"]
    assert not [link for link in links_in(already[0]) if "/confirm/" in link]


def html_part(mail: Any) -> str:
    return str(mail.get_body(preferencelist=("html",)).get_content())


def test_the_claim_e_mails_are_text_and_html_with_one_button_in_the_claimant_s_language(client, world, setup,
                                                                                      outbox):
    # Issue 16: the claim link and "already claimed" mails were text only, without the award mail's button.
    campaign = make_campaign(setup, world)
    client.post("/language", data={"locale": "fr", "next": "/", "csrf_token": token_of(client, "/")})
    ask(client, campaign["code"], "lea@example.net", "Léa")
    [link_mail] = outbox()
    assert link_mail.get_body(preferencelist=("plain",)) is not None
    html = html_part(link_mail)
    link = claim_link(outbox, "lea@example.net")
    assert f'href="http://localhost{link}"' in html and ">Recevoir votre badge<" in html
    assert '<html lang="fr">' in html and f"http://localhost/achievements/{world['repair']}/image" in html
    confirm(client, link)
    ask(client, campaign["code"], "lea@example.net")
    already = [mail for mail in outbox() if "already" in mail["Subject"] or "déjà" in mail["Subject"]]
    assert len(already) == 1
    keep = [found for found in links_in(already[0]) if "/keep/" in found]
    assert keep and f'href="{keep[0]}"' in html_part(already[0])
    assert ">Voir et garder votre badge<" in html_part(already[0])


def test_asking_again_sends_a_new_link_and_the_old_one_stops_working(client, world, setup, query, outbox):
    campaign = make_campaign(setup, world)
    ask(client, campaign["code"], "lea@example.net")
    old = claim_link(outbox, "lea@example.net")
    ask(client, campaign["code"], "lea@example.net")
    new = claim_link(outbox, "lea@example.net")
    assert new != old
    assert client.get(old).status_code == 400
    assert confirm(client, new).status_code == 302
    assert count(query, IssuedCredential) == 1


def test_a_used_link_issues_nothing_more(client, world, setup, query, outbox):
    campaign = make_campaign(setup, world)
    ask(client, campaign["code"], "lea@example.net")
    link = claim_link(outbox, "lea@example.net")
    token = csrf_token_from(client.get(link).get_data(as_text=True))
    for _ in range(2):
        assert client.post(link, data={"csrf_token": token, "submit": "1"}).status_code == 302
    assert count(query, IssuedCredential) == 1
    assert len(awarded_mails(outbox)) == 1


def test_an_expired_link_says_so_and_points_back_to_the_campaign(client, world, setup, outbox):
    campaign = make_campaign(setup, world, opens=-dt.timedelta(days=3))

    def old_request() -> str:
        found = db.session.get(ClaimCampaign, campaign["id"])
        asked = claims.request_claim(found, "lea@example.net", now=utcnow() - claims.CLAIM_LINK_LIFETIME - HOUR)
        return str(asked.token)

    token = setup(old_request)
    response = client.get(f"/claim/{campaign['code']}/confirm/{token}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "This link has expired" in html and f'href="/claim/{campaign["code"]}"' in html


@pytest.mark.parametrize("token", ["nope", "x" * 300])
def test_an_unknown_link_is_refused(client, world, setup, token):
    campaign = make_campaign(setup, world)
    assert client.get(f"/claim/{campaign['code']}/confirm/{token}").status_code == 400


def test_not_yet_open_ended_and_full_campaigns_say_so(client, world, setup, outbox):
    later = make_campaign(setup, world, opens=HOUR, closes=2 * HOUR)
    html = client.get(f"/claim/{later['code']}").get_data(as_text=True)
    assert "not open yet" in html and 'name="email"' not in html
    assert ask(client, later["code"], "lea@example.net").status_code == 409
    full = make_campaign(setup, world, cap=1)
    ask(client, full["code"], "lea@example.net")
    ask(client, full["code"], "hugo@example.net")
    confirm(client, claim_link(outbox, "lea@example.net"))
    html = client.get(f"/claim/{full['code']}").get_data(as_text=True)
    assert "Every badge of this campaign has been claimed" in html and 'name="email"' not in html
    # Hugo asked in time, but the last badge went to Léa.
    link = claim_link(outbox, "hugo@example.net")
    assert "Every badge of this campaign has been claimed" in client.get(link).get_data(as_text=True)
    refused = client.post(link, data={"csrf_token": csrf_token_from(client.get(link).get_data(as_text=True)),
                                      "submit": "1"})
    assert refused.status_code == 409 and "Every badge of this campaign has been claimed" in refused.get_data(
        as_text=True)


def test_a_suspended_organisation_issues_nothing_and_the_page_says_why(client, world, setup, query, outbox):
    campaign = make_campaign(setup, world)
    ask(client, campaign["code"], "lea@example.net")
    link = claim_link(outbox, "lea@example.net")

    def suspend() -> None:
        organisation = get_organisation_by_slug(world["a"])
        decide_membership(memberships_of(organisation)[0], "suspend", get_user_by_email("coord@example.org"),
                          "Badges sans preuves")

    setup(suspend)
    paused = "This campaign is paused"
    assert paused in client.get(link).get_data(as_text=True)
    assert paused in client.get(f"/claim/{campaign['code']}").get_data(as_text=True)
    response = confirm(client, link)
    assert response.status_code == 403
    assert count(query, IssuedCredential) == 0
    assert query(lambda: db.session.scalars(select(Claim)).one().state) is ClaimState.PENDING


def test_claim_requests_are_rate_limited_with_a_clear_page(app, client, world, setup, query):
    app.config["RATELIMIT_CLAIMS"] = "2 per minute"
    campaign = make_campaign(setup, world)
    for n in range(2):
        assert ask(client, campaign["code"], f"person{n}@example.net").status_code == 302
    limited = ask(client, campaign["code"], "person9@example.net")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert "Too many badge requests came from here" in limited.get_data(as_text=True)
    assert count(query, Claim) == 2


def test_the_campaign_limit_holds_across_clients(app, world, setup, query):
    app.config["RATELIMIT_CLAIM_CAMPAIGN"] = "3 per minute"
    campaign = make_campaign(setup, world)
    statuses = []
    for n in range(4):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{n + 1}"
        statuses.append(ask(client, campaign["code"], f"person{n}@example.net").status_code)
    assert statuses == [302, 302, 302, 429]


def test_guessing_codes_is_rate_limited_but_a_known_code_is_not(app, client, world, setup):
    app.config["RATELIMIT_CLAIMS"] = "3 per minute"
    campaign = make_campaign(setup, world)
    for _ in range(5):
        assert client.get(f"/claim/{campaign['code']}").status_code == 200
    assert [client.get("/claim/ZZZZZZ").status_code for _ in range(4)] == [404, 404, 404, 429]


# ------------------------------------------------------------------------------------------------- poster


def test_the_poster_pdf_and_png_carry_the_code_and_a_qr_code_to_the_claim_page(client, world, setup):
    campaign = make_campaign(setup, world)
    sign_in(client, world["viewer_a"])
    base = f"/organisations/{world['a']}/claims/{campaign['id']}/poster"
    claim_url = f"http://localhost/claim/{campaign['code']}"
    pdf = client.get(f"{base}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert decode_pdf_qr(pdf.data) == [claim_url]
    text = flat(pdf_text(pdf.data))
    assert campaign["code"] in text and "Réparer une crevaison" in text and "Atelier Vélo" in text
    png = client.get(f"{base}.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert decode_png_qr(png.data) == [claim_url]
    # The same code to show on a screen, from the campaign page.
    detail = client.get(f"/organisations/{world['a']}/claims/{campaign['id']}").get_data(as_text=True)
    svg_url = f"/organisations/{world['a']}/claims/{campaign['id']}/qr.svg"
    assert f'src="{svg_url}"' in detail
    svg = client.get(svg_url)
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    assert svg.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_signed_out_visitors_are_sent_to_sign_in(client, world, setup):
    campaign = make_campaign(setup, world)
    base = f"/organisations/{world['a']}/claims"
    for url in (base, f"{base}/{campaign['id']}/poster.pdf"):
        response = client.get(url)
        assert response.status_code == 302 and re.match(r"^/sign-in", response.headers["Location"])
