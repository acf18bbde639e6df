"""Awarding and revoking through the browser's eyes: the award form, the list, the revoke form, who may do what."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import current_app
from flask.testing import FlaskClient
from sqlalchemy import func, select

from badgehub.achievements import service as achievements
from badgehub.credentials.baking import extract_from_png
from badgehub.extensions import db
from badgehub.issuing import service as issuing
from badgehub.issuing.models import IssuedCredential
from badgehub.organisations.models import Organisation
from badgehub.territory.service import decide_membership, memberships_of
from tests.conftest import csrf_token_from, links_in, sign_in
from tests.factories import world_ids


@pytest.fixture
def world(snapshot: Any) -> dict[str, Any]:
    return snapshot(world_ids)



def award_url(world: dict[str, Any], badge: str = "repair", organisation: str = "a") -> str:
    return f"/organisations/{world[organisation]}/achievements/{world[badge]}/award"


def award_form(client: FlaskClient, url: str, **changes: Any) -> dict[str, Any]:
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    key = re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="idempotency_key"', html)
    assert key, "the form carries an idempotency key"
    data = {"csrf_token": csrf_token_from(html), "idempotency_key": key.group(1), "recipient_email": "lea@example.net",
            "recipient_name": "Léa Martin", "evidence_url": "", "narrative": "", "activity_start": "",
            "activity_end": "", "area_id": "", "result": "", "submit": "1"}
    data.update(changes)
    return data


def credential_count(query: Any) -> int:
    return query(lambda: db.session.scalar(select(func.count(IssuedCredential.id))))


def issue_directly(setup: Any, world: dict[str, Any], badge: str = "repair", email: str = "sam@example.net",
                   **options: Any) -> str:
    def run() -> str:
        achievement = achievements.public_achievement(world[badge])
        options.setdefault("config", current_app.config)
        return str(issuing.issue_credential(organisation=achievement.organisation, achievement=achievement,
                                            recipient_email=email, recipient_name="Sam Durand", actor_id=None,
                                            source="cli", **options).public_id)

    return setup(run)


def test_signed_out_visitors_are_sent_to_sign_in(client, world):
    for url in (award_url(world), f"/organisations/{world['a']}/credentials"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")


def test_an_issuer_awards_a_badge_and_the_person_gets_it_by_mail(client, world, query, outbox):
    sign_in(client, world["issuer_a"])
    data = award_form(client, award_url(world), evidence_url="https://velo.example.org/photo.jpg",
                      narrative="A réparé deux roues.", activity_start="2025-03-01", activity_end="2025-03-01",
                      area_id=str(world["gare"]), result="Autonome")
    response = client.post(award_url(world), data=data)
    assert response.status_code == 302
    public_id = response.headers["Location"].rsplit("/", 1)[1]
    assert response.headers["Location"] == f"/organisations/{world['a']}/credentials/{public_id}"
    credential = query(lambda: issuing.get_credential(public_id))
    assert (credential.recipient_email, credential.recipient_name, credential.source.value, credential.result,
            credential.activity_start.date(), credential.area_id) == (
        "lea@example.net", "Léa Martin", "single", "Autonome", dt.date(2025, 3, 1), world["gare"])
    [message] = outbox()
    assert message["To"] == "lea@example.net"
    assert f"http://localhost/c/{public_id}" in links_in(message)
    attachment, _wallet_app_qr = list(message.iter_attachments())
    assert extract_from_png(attachment.get_content()).payload == credential.document_json
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"http://localhost/c/{public_id}" in page and "lea@example.net" in page


def test_submitting_the_same_form_twice_awards_once(client, world, query, outbox):
    sign_in(client, world["owner_a"])
    data = award_form(client, award_url(world))
    first = client.post(award_url(world), data=data)
    second = client.post(award_url(world), data=data)
    assert first.headers["Location"] == second.headers["Location"]
    assert credential_count(query) == 1
    # The person was mailed by the first sending only, and the second says so.
    assert len(outbox()) == 1
    assert "no second e-mail was sent" in client.get(second.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize(("changes", "message"), [
    ({"recipient_email": "lea-at-example.net"}, "does not look like an e-mail address"),
    ({"recipient_email": ""}, 'id="recipient_email-error">Give the person'),
    ({"activity_start": "2999-01-01"}, "This date is in the future."),
    ({"activity_start": "2025-03-02", "activity_end": "2025-03-01"}, "cannot end before it starts"),
    ({"evidence_url": "javascript:alert(1)"}, "starting with https://"),
    ({"area_id": "999999"}, "Not a valid choice"),
])
def test_bad_values_are_explained_and_nothing_is_awarded(client, world, query, outbox, changes, message):
    sign_in(client, world["issuer_a"])
    response = client.post(award_url(world), data=award_form(client, award_url(world), **changes))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert credential_count(query) == 0 and outbox() == []


def test_the_award_form_offers_only_the_organisations_areas(client, world):
    sign_in(client, world["issuer_a"])
    html = client.get(award_url(world)).get_data(as_text=True)
    assert f'value="{world["gare"]}"' in html and f'value="{world["port"]}"' not in html


def test_viewers_read_the_list_but_neither_award_nor_revoke(client, world, setup, query):
    public_id = issue_directly(setup, world)
    sign_in(client, world["viewer_a"])
    assert client.get(award_url(world)).status_code == 403
    listing = client.get(f"/organisations/{world['a']}/credentials")
    assert listing.status_code == 200 and "sam@example.net" in listing.get_data(as_text=True)
    detail = client.get(f"/organisations/{world['a']}/credentials/{public_id}").get_data(as_text=True)
    assert "Revoke for good" not in detail
    token = csrf_token_from(detail)  # the sign-out form of every page
    response = client.post(f"/organisations/{world['a']}/credentials/{public_id}/revoke",
                           data={"csrf_token": token, "reason": "Non"})
    assert response.status_code == 403
    assert query(lambda: issuing.get_credential(public_id).revoked_at) is None


def test_an_issuer_of_a_can_neither_award_nor_revoke_for_b(client, world, setup, query):
    b_credential = issue_directly(setup, world, "reading")
    sign_in(client, world["issuer_a"])
    # B's pages do not exist for A's staff, and B's badge does not exist in A's pages.
    assert client.get(award_url(world, "reading", "b")).status_code == 404
    assert client.get(award_url(world, "reading", "a")).status_code == 404
    assert client.get(f"/organisations/{world['a']}/credentials/{b_credential}").status_code == 404
    own = client.get(f"/organisations/{world['a']}/credentials").get_data(as_text=True)
    token = csrf_token_from(client.get(award_url(world)).get_data(as_text=True))
    for url in (f"/organisations/{world['a']}/credentials/{b_credential}/revoke",
                f"/organisations/{world['b']}/credentials/{b_credential}/revoke"):
        assert client.post(url, data={"csrf_token": token, "reason": "Sabotage"}).status_code == 404
    assert b_credential not in own
    assert query(lambda: issuing.get_credential(b_credential).revoked_at) is None


def test_a_suspended_organisation_cannot_award(client, world, setup, query):
    sign_in(client, world["issuer_a"])
    data = award_form(client, award_url(world))

    def suspend() -> None:
        from badgehub.organisations.service import get_organisation_by_slug
        from badgehub.territory.models import TerritoryCoordinator

        organisation = get_organisation_by_slug(world["a"])
        coordinator = db.session.scalars(select(TerritoryCoordinator)).first().user
        decide_membership(memberships_of(organisation)[0], "suspend", coordinator, "Badges sans preuves")

    setup(suspend)
    page = client.get(award_url(world))
    assert "This organisation is suspended." in page.get_data(as_text=True)
    assert 'name="recipient_email"' not in page.get_data(as_text=True)
    assert client.post(award_url(world), data=data).status_code == 403
    assert credential_count(query) == 0


def test_an_archived_badge_cannot_be_awarded(client, world, setup):
    def archive() -> None:
        achievement = achievements.public_achievement(world["repair"])
        achievement.archived_at = dt.datetime.now(dt.UTC)

    setup(archive)
    sign_in(client, world["issuer_a"])
    response = client.get(award_url(world))
    assert response.status_code == 409


def test_revoking_needs_a_public_reason_and_keeps_the_note_private(client, world, setup, query):
    public_id = issue_directly(setup, world)
    sign_in(client, world["issuer_a"])
    detail_url = f"/organisations/{world['a']}/credentials/{public_id}"
    token = csrf_token_from(client.get(detail_url).get_data(as_text=True))
    empty = client.post(f"{detail_url}/revoke", data={"csrf_token": token, "reason": "", "note": "x"})
    assert empty.status_code == 400 and "Choose the reason from the list." in empty.get_data(as_text=True)
    free_text = client.post(f"{detail_url}/revoke", data={"csrf_token": token, "reason": "Donné par erreur"})
    assert free_text.status_code == 400
    assert query(lambda: issuing.get_credential(public_id).revoked_at) is None
    done = client.post(f"{detail_url}/revoke", data={"csrf_token": token, "reason": "error",
                                                     "note": "Donné à Sam au lieu de Léa"})
    assert done.status_code == 302
    credential = query(lambda: issuing.get_credential(public_id))
    assert (credential.revocation_reason, credential.revocation_note) == ("error", "Donné à Sam au lieu de Léa")
    page = client.get(detail_url).get_data(as_text=True)
    assert "Revoked on" in page and "Error in the award" in page and "Donné à Sam" in page
    assert "Revoke for good" not in page
    public = client.get(f"/c/{public_id}").get_data(as_text=True)
    assert "Error in the award" in public and "Donné à Sam" not in public
    again = client.post(f"{detail_url}/revoke", data={"csrf_token": token, "reason": "other"})
    assert again.status_code == 409


def test_posting_without_csrf_token_is_refused(client, world, query):
    sign_in(client, world["issuer_a"])
    data = award_form(client, award_url(world))
    del data["csrf_token"]
    assert client.post(award_url(world), data=data).status_code == 400
    assert credential_count(query) == 0


def test_the_list_searches_and_filters(client, world, setup):
    lea = issue_directly(setup, world, email="lea@example.net")
    sam = issue_directly(setup, world, "workshop", email="sam@example.net")
    old = issue_directly(setup, world, "workshop", email="old@example.net",
                         now=dt.datetime.now(dt.UTC) - dt.timedelta(days=60))
    setup(lambda: issuing.revoke_credential(issuing.get_credential(sam), note="Erreur", actor_id=None,
                                            config=current_app.config))
    sign_in(client, world["viewer_a"])
    base = f"/organisations/{world['a']}/credentials"

    def shown(**params: str) -> set[str]:
        html = client.get(base, query_string=params).get_data(as_text=True)
        return {public_id for public_id in (lea, sam, old) if public_id in html}

    assert shown() == {lea, sam, old}
    assert shown(q="LEA") == {lea}
    assert shown(achievement=world["workshop"]) == {sam, old}
    assert shown(state="revoked") == {sam}
    assert shown(state="expired") == {old}
    assert shown(state="active") == {lea}
    assert shown(state="nonsense", page="abc") == {lea, sam, old}


def test_the_list_pages_keep_the_filters(client, world, setup):
    def many() -> None:
        achievement = achievements.public_achievement(world["repair"])
        signer = issuing.signer_for(achievement.organisation, current_app.config)
        for number in range(51):
            issuing.issue_credential(organisation=achievement.organisation, achievement=achievement,
                                     recipient_email=f"p{number}@example.net", recipient_name="", actor_id=None,
                                     source="cli", signer=signer, config=current_app.config)

    setup(many)
    sign_in(client, world["viewer_a"])
    base = f"/organisations/{world['a']}/credentials"
    first = client.get(base, query_string={"state": "active"}).get_data(as_text=True)
    assert "Page 1 of 2" in first
    assert f'href="{base}?state=active&amp;page=2" rel="next"' in first
    second = client.get(base, query_string={"state": "active", "page": "2"}).get_data(as_text=True)
    assert "Page 2 of 2" in second and f'href="{base}?state=active" rel="prev"' in second


def test_once_it_has_issued_the_organisation_address_is_shown_but_no_longer_editable(client, world, setup, query):
    sign_in(client, world["owner_a"])
    profile_url = f"/organisations/{world['a']}/profile"
    assert 'name="slug"' in client.get(profile_url).get_data(as_text=True)
    issue_directly(setup, world)
    page = client.get(profile_url).get_data(as_text=True)
    assert 'name="slug"' not in page
    assert "they name it by this address: it can no longer change." in page
    fields = {"name": "Atelier Vélo", "type": "association", "sector": "community", "description": "Le samedi",
              "url": "", "email": "", "phone": "", "image_url": "", "street_address": "", "postal_code": "",
              "locality": "", "region": "", "country_code": "", "area_id": "", "csrf_token": csrf_token_from(page)}
    refused = client.post(profile_url, data={**fields, "slug": "another-address"})
    assert refused.status_code == 400
    assert "it can no longer change." in refused.get_data(as_text=True)
    assert client.post(profile_url, data=fields).status_code == 302  # the rest of the profile still changes
    slug, description = query(lambda: db.session.execute(
        select(Organisation.slug, Organisation.description).where(Organisation.slug == world["a"])).one())
    assert (slug, description) == (world["a"], "Le samedi")
