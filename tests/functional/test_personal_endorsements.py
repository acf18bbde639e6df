"""Endorsing in one's own name (issue 17, open recognition): a person with no organisation endorses a learner's
credential through the learner's link; the endorsement is signed by the person's own issuer (did:web, keys kept
for them), verifies, shows on /c/<id> once the learner chooses it, can be withdrawn, is never an organisation
anywhere, and goes with the person's account."""

from __future__ import annotations

import json
import re
import socket
from typing import Any

import pytest
from flask import current_app
from flask.testing import FlaskClient
from sqlalchemy import select

from badgehub.accounts.models import User
from badgehub.accounts.service import create_user, get_user_by_email
from badgehub.endorsements import service as endorsements
from badgehub.endorsements.errors import EndorsementNotFound, TooManyPersonalEndorsements
from badgehub.endorsements.models import Endorsement, PersonalIssuer
from badgehub.endorsements.personal_issuers import personal_issuer_of
from badgehub.endorsements.territory_issuers import endorsing_organisations
from badgehub.extensions import db
from badgehub.issuing import service as issuing
from badgehub.organisations.models import Organisation
from badgehub.organisations.service import organisations_of
from badgehub.registry.service import trusted_members
from badgehub.territory.models import Territory
from badgehub.territory.service import approved_members_by_sector
from badgehub.verification import fetch as fetch_module
from badgehub.wallet.erasure import erase_account
from tests.conftest import csrf_token_from, sign_in
from tests.factories import build_endorsement_world


@pytest.fixture(autouse=True)
def no_name_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dns(host: str, port: int) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "no name resolution in tests")

    monkeypatch.setattr(fetch_module, "resolve_addresses", no_dns)


def _shared_world() -> dict[str, Any]:
    """The endorsement world, with Sam (no organisation) and two invitations of Léa's: a ``snapshot`` build, made
    once per test process."""
    ids = build_endorsement_world()
    credential = issuing.get_credential(ids["credential"])
    lea = get_user_by_email("lea@example.net")
    assert lea is not None
    sam = create_user("sam@example.net", name="Sam Martin", verified=True)
    _invitation, token = endorsements.invite(credential, lea)
    _second, second = endorsements.invite(credential, lea)
    ids.update(sam=sam.get_id(), sam_id=sam.id, link=f"/endorse/{token}", token=token, second=second)
    return ids


@pytest.fixture
def world(snapshot: Any) -> dict[str, Any]:
    return snapshot(_shared_world)


def _post(client: FlaskClient, page: str, data: dict[str, Any], to: str | None = None, **kwargs: Any) -> Any:
    token = csrf_token_from(client.get(page, **kwargs).get_data(as_text=True))
    return client.post(to or page, data={"csrf_token": token, **data}, **kwargs)


def _as(client: FlaskClient, who: str) -> FlaskClient:
    fresh = client.application.test_client()
    sign_in(fresh, who)
    return fresh


def _section(html: str) -> str:
    match = re.search(r'<section class="endorsements".*?</section>', html, re.S)
    return match.group(0) if match else ""


def _endorse_as_sam(client: FlaskClient, world: dict[str, Any], name: str = "Sam M.") -> Any:
    sam = _as(client, world["sam"])
    return sam, _post(sam, world["link"], {"endorser": "@me", "display_name": name,
                                           "comment": "Je l'ai vue animer trois ateliers."})


def _show(client: FlaskClient, world: dict[str, Any]) -> str:
    lea = _as(client, world["lea"])
    page = f"/wallet/c/{world['credential']}/endorsements"
    endorsement_id = re.search(r'/endorsements/([a-z2-7]{12})/display', lea.get(page).get_data(as_text=True)).group(1)
    assert _post(lea, page, {"shown": "1"},
                 to=f"/wallet/c/{world['credential']}/endorsements/{endorsement_id}/display").status_code == 302
    return endorsement_id


def test_a_person_without_organisation_endorses_in_their_own_name_and_it_verifies(
        client: FlaskClient, world: dict[str, Any]) -> None:
    sam = _as(client, world["sam"])
    form = sam.get(world["link"]).get_data(as_text=True)
    assert re.search(r'<option[^>]*selected[^>]*value="@me"|<option[^>]*value="@me"[^>]*selected', form)
    assert 'value="Sam Martin"' in form  # their account's name, which they may change; never the address
    french = sam.get(world["link"], headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "En mon nom propre" in french
    _sam, answer = _endorse_as_sam(client, world)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    anonymous = client.application.test_client()
    assert "ateliers" not in anonymous.get(f"/c/{world['credential']}").get_data(as_text=True)  # not chosen yet
    endorsement_id = _show(client, world)
    section = _section(anonymous.get(f"/c/{world['credential']}").get_data(as_text=True))
    assert "Sam M." in section and "Je l&#39;ai vue animer trois ateliers." in section
    assert "badge-ok" in section and "Valid" in section  # the pipeline resolved the person's did:web locally
    document = json.loads(anonymous.get(f"/endorsements/{endorsement_id}.json").data)
    issuer = document["issuer"]
    assert issuer["type"] == ["Profile"] and issuer["name"] == "Sam M."
    assert re.fullmatch(r"did:web:localhost:issuers:person-[0-9a-f]{12}", issuer["id"])
    assert "sam@example.net" not in json.dumps(document) and "email" not in issuer
    assert [proof["cryptosuite"] for proof in document["proof"]] == ["eddsa-rdfc-2022"]
    assert document["credentialStatus"]["statusPurpose"] == "revocation"
    assert anonymous.get(f"/endorsements/{endorsement_id}.jwt").get_data(as_text=True).count(".") == 2


def test_the_person_s_profile_and_did_document_resolve_and_show_only_their_name(
        client: FlaskClient, world: dict[str, Any]) -> None:
    _endorse_as_sam(client, world)
    with client.application.app_context():
        slug = personal_issuer_of(db.session.get(User, world["sam_id"])).slug
    anonymous = client.application.test_client()
    did = anonymous.get(f"/issuers/{slug}/did.json").get_json()
    assert did["id"] == f"did:web:localhost:issuers:{slug}" and len(did["verificationMethod"]) == 2
    page = anonymous.get(f"/issuers/{slug}").get_data(as_text=True)
    assert "Sam M." in page and "sam@example.net" not in page and "Sam Martin" not in page
    assert "Endorse this organisation" not in page
    assert "endosse des badges en son nom propre" in anonymous.get(
        f"/issuers/{slug}", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    profile = anonymous.get(f"/issuers/{slug}", headers={"Accept": "application/ld+json"}).get_json()
    assert profile["name"] == "Sam M." and "email" not in profile and "url" not in profile


def test_a_learner_cannot_endorse_their_own_badge(client: FlaskClient, world: dict[str, Any]) -> None:
    lea = _as(client, world["lea"])
    answer = _post(lea, world["link"], {"endorser": "@me", "display_name": "Léa", "comment": "Moi, bravo."})
    assert answer.status_code == 403
    assert "You cannot endorse your own badge" in answer.get_data(as_text=True)
    with client.application.app_context():
        assert db.session.scalar(select(Endorsement.id)) is None
        assert db.session.scalar(select(PersonalIssuer.id)) is None  # nothing made for a refused endorsement


def test_a_name_that_is_an_address_or_missing_is_refused(client: FlaskClient, world: dict[str, Any]) -> None:
    _sam, answer = _endorse_as_sam(client, world, name="sam@example.net")
    assert answer.status_code == 400 and "not an e-mail address" in answer.get_data(as_text=True)
    _sam, answer = _endorse_as_sam(client, world, name="  ")
    assert answer.status_code == 400 and "Give the name to show" in answer.get_data(as_text=True)


def test_the_person_withdraws_their_endorsement(client: FlaskClient, world: dict[str, Any]) -> None:
    sam, _answer = _endorse_as_sam(client, world)
    endorsement_id = _show(client, world)
    listing = sam.get("/endorsements/mine").get_data(as_text=True)
    assert "Je l&#39;ai vue animer" in listing
    assert "Mes recommandations" in sam.get("/endorsements/mine", headers={"Accept-Language": "fr"}).get_data(
        as_text=True)
    other = _as(client, world["owner_b"])  # someone else's endorsement: 404
    assert _post(other, "/endorsements/mine", {}, to=f"/endorsements/mine/{endorsement_id}/withdraw").status_code == 404
    assert _post(sam, "/endorsements/mine", {},
                 to=f"/endorsements/mine/{endorsement_id}/withdraw").status_code == 302
    assert "ateliers" not in _section(client.application.test_client().get(
        f"/c/{world['credential']}").get_data(as_text=True))
    with client.application.app_context():
        endorsement = endorsements.get_endorsement(endorsement_id)
        assert endorsement.withdrawn_at is not None
        from badgehub.endorsements.live import verify_endorsement
        report = verify_endorsement(current_app, endorsement)
        assert not report.verified and "status" in [check.id for check in report.failed]


def test_personal_endorsements_are_rate_limited(client: FlaskClient, world: dict[str, Any],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(endorsements, "MAX_PERSONAL_ENDORSEMENTS_PER_DAY", 1)
    _sam, answer = _endorse_as_sam(client, world)
    assert answer.status_code == 302
    sam = _as(client, world["sam"])
    answer = _post(sam, f"/endorse/{world['second']}", {"endorser": "@me", "display_name": "Sam",
                                                         "comment": "Encore."})
    assert answer.status_code == 429 and "many endorsements in your own name" in answer.get_data(as_text=True)
    with client.application.app_context(), pytest.raises(TooManyPersonalEndorsements):
        endorsements.endorse_in_own_name(world["second"], db.session.get(User, world["sam_id"]),
                                         display_name="Sam", comment="Encore.", config=current_app.config)


def test_a_person_s_issuer_is_never_an_organisation(client: FlaskClient, world: dict[str, Any]) -> None:
    _endorse_as_sam(client, world)
    with client.application.app_context():
        sam = db.session.get(User, world["sam_id"])
        issuer = personal_issuer_of(sam)
        assert issuer is not None and issuer.members == [] and issuer.memberships == []
        assert organisations_of(sam) == [] and endorsing_organisations(sam) == []
        territory = db.session.scalar(select(Territory).where(Territory.slug == world["territory"]))
        assert issuer not in trusted_members(territory)
        assert all(issuer not in group for _sector, group in approved_members_by_sector(territory))
        slug = issuer.slug
    sam_client = _as(client, world["sam"])
    assert "/endorsements/mine" in sam_client.get("/wallet").get_data(as_text=True)
    assert sam_client.get(f"/organisations/{slug}").status_code == 404
    assert sam_client.get(f"/issuers/{slug}/request").status_code == 404
    owner_b = _as(client, world["owner_b"])
    assert owner_b.get(f"/issuers/{slug}/endorse").status_code == 404
    answer = _post(owner_b, f"/issuers/{world['a']}/endorse", {"endorser": world["b"], "comment": "Oui."},
                   to=f"/issuers/{slug}/endorse")
    assert answer.status_code == 404
    with client.application.app_context(), pytest.raises(EndorsementNotFound):
        library = db.session.scalar(select(Organisation).where(Organisation.slug == world["b"]))
        endorsements.endorse_organisation(library, db.session.get(User, int(world["owner_b"].partition(":")[0])),
                                          db.session.scalar(select(Organisation).where(Organisation.slug == slug)),
                                          comment="Oui.", config=current_app.config)
    with client.application.app_context():
        assert db.session.scalar(select(Endorsement.id).where(Endorsement.kind == "profile")) is None
    observatory = client.application.test_client().get(f"/t/{world['territory']}/observatory")
    assert "Sam M." not in observatory.get_data(as_text=True)


def test_erasing_the_account_withdraws_and_blanks_the_person_s_endorsements(
        client: FlaskClient, world: dict[str, Any]) -> None:
    _endorse_as_sam(client, world)
    endorsement_id = _show(client, world)
    with client.application.app_context():
        sam = db.session.get(User, world["sam_id"])
        slug = personal_issuer_of(sam).slug
        erase_account(sam, actor_id=None, config=current_app.config)
        db.session.commit()
        endorsement = endorsements.get_endorsement(endorsement_id)
        assert endorsement.withdrawn_at is not None
        assert (endorsement.comment, endorsement.document_json, endorsement.vc_jwt) == ("", "", "")
        organisation = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
        assert organisation.name == ""
        assert db.session.scalar(select(PersonalIssuer.user_id)) is None
    anonymous = client.application.test_client()
    assert anonymous.get(f"/endorsements/{endorsement_id}.json").status_code == 404
    assert "ateliers" not in anonymous.get(f"/c/{world['credential']}").get_data(as_text=True)
    page = anonymous.get(f"/issuers/{slug}").get_data(as_text=True)
    assert "A person who has left" in page and "Sam" not in page
    assert anonymous.get(f"/issuers/{slug}/did.json").status_code == 200  # the list it signed still verifies
    profile = anonymous.get(f"/issuers/{slug}", headers={"Accept": "application/ld+json"})
    assert profile.status_code == 404 and "Sam" not in profile.get_data(as_text=True)


def test_the_signal_says_no_organisation_endorsed(client: FlaskClient, world: dict[str, Any]) -> None:
    from badgehub import events

    seen: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        seen.append(kwargs)

    events.endorsement_issued.connect(receiver)
    try:
        _sam, answer = _endorse_as_sam(client, world)
    finally:
        events.endorsement_issued.disconnect(receiver)
    assert answer.status_code == 302
    assert len(seen) == 1
    assert (seen[0]["kind"], seen[0]["endorser_organisation_id"], seen[0]["territory_id"]) == ("credential", None, None)


def test_endorsing_the_same_badge_twice_in_one_s_own_name_says_so(client: FlaskClient, world: dict[str, Any]) -> None:
    _sam, answer = _endorse_as_sam(client, world)
    assert answer.status_code == 302
    _sam, answer = _endorse_as_sam(client, world)
    assert answer.status_code == 409 and "You already endorse it in your own name." in answer.get_data(as_text=True)
    french = _as(client, world["sam"])
    answer = _post(french, world["link"], {"endorser": "@me", "display_name": "Sam", "comment": "Encore."},
                   headers={"Accept-Language": "fr"})
    assert answer.status_code == 409
    assert "Vous la recommandez déjà en votre nom propre." in answer.get_data(as_text=True)


def test_a_person_s_issuer_is_no_organisation_for_them_to_manage(client: FlaskClient, world: dict[str, Any]) -> None:
    from badgehub.pathways import service as pathways

    _endorse_as_sam(client, world)
    with client.application.app_context():
        sam = db.session.get(User, world["sam_id"])
        issuer = personal_issuer_of(sam)
        slug = issuer.slug
        with pytest.raises(pathways.CannotManagePathways):  # a pathway towards a qualification needs no badge
            pathways.create_pathway(issuer, sam, pathways.PathwayFields(
                name="Parcours", qualification_uri="https://www.francecompetences.fr/",
                groups=(pathways.GroupInput(achievements=(world["repair"],)),)))
    sam_client = _as(client, world["sam"])
    for page in ("pathways", "pathways/new", "endorsements", "requests"):
        assert sam_client.get(f"/organisations/{slug}/{page}").status_code == 404, page
    assert "Je l&#39;ai vue animer" in sam_client.get("/endorsements/mine").get_data(as_text=True)
