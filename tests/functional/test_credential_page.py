"""/c/<id>: the credential page an employer opens from the QR code, verified live, and its holder check.

Every credential here is issued through the real service and verified through the real pipeline; our own keys
and status lists are answered from the database, and no test reaches the network (the fetcher resolves no name).
"""

from __future__ import annotations

import datetime as dt
import html as html_module
import json
import re
import socket
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import event

from badgehub.achievements.service import public_achievement
from badgehub.extensions import db
from badgehub.issuing import service as issuing
from badgehub.issuing.models import IssuedCredential
from badgehub.issuing.status_lists import refresh_status_lists
from badgehub.keys.models import KeyAlgorithm
from badgehub.keys.service import active_key, declare_compromised, rotate_keys
from badgehub.territory.service import decide_membership, memberships_of
from badgehub.verification import fetch as fetch_module
from badgehub.verification.platform import register_local_resolver
from badgehub.verification.resolver import StaticResolver
from tests.conftest import TEST_KEK, csrf_token_from
from tests.factories import BADGE_PNG, build_world, world_ids

EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "ob3-examples"
BITSTRING_URL = (
    "https://raw.githubusercontent.com/1EdTech/digital-credentials-public-validator/refs/heads/main/"
    "inspector-vc/src/test/resources/ob30/bit-string-list/testlist"
)
EMAIL = "Lea.Martin@example.net"


@pytest.fixture(autouse=True)
def no_name_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dns(host: str, port: int) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "no name resolution in tests")

    monkeypatch.setattr(fetch_module, "resolve_addresses", no_dns)


@pytest.fixture
def world(snapshot: Any) -> dict[str, Any]:
    return snapshot(world_ids)


def award(setup: Any, world: dict[str, Any], badge: str = "repair", **options: Any) -> str:
    def run() -> str:
        achievement = public_achievement(world[badge])
        options.setdefault("config", current_app.config)
        credential = issuing.issue_credential(
            organisation=achievement.organisation, achievement=achievement, recipient_email=EMAIL,
            recipient_name="Léa Martin", actor_id=None, source="cli", **options)
        return str(credential.public_id)

    return setup(run)


def coordinator_decides(setup: Any, slug: str, decision: str, reason: str = "") -> None:
    def run() -> None:
        from badgehub.organisations.service import get_organisation_by_slug
        from badgehub.territory.models import TerritoryCoordinator

        membership = memberships_of(get_organisation_by_slug(slug))[0]
        coordinator = db.session.scalars(
            db.select(TerritoryCoordinator).where(TerritoryCoordinator.territory_id == membership.territory_id)
        ).first()
        assert coordinator is not None
        decide_membership(membership, decision, coordinator.user, reason)

    setup(run)


def text_of(html: str) -> str:
    return html_module.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def verdict_title(html: str) -> str:
    match = re.search(r'<h1 id="verdict-title" class="verdict-title">(.*?)</h1>', html, re.S)
    assert match, "no verdict on the page"
    return re.sub(r"<[^>]+>|[✓✗!?]", "", html_module.unescape(match.group(1))).strip()


def page_of(client: FlaskClient, public_id: str, **headers: str) -> str:
    response = client.get(f"/c/{public_id}", headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


# -- verdicts, computed live


def test_a_valid_credential_says_so_with_issuer_standing_meaning_and_dates(client: FlaskClient, setup: Any,
                                                                          world: dict[str, Any]) -> None:
    public_id = award(setup, world, evidence_url="https://velo.example.org/photos/1", narrative="A réparé seule.",
                      result="Très bien")
    response = client.get(f"/c/{public_id}")
    html = response.get_data(as_text=True)
    text = text_of(html)
    assert response.status_code == 200
    assert verdict_title(html) == "Valid"
    assert '<meta name="robots" content="noindex">' in html
    assert response.headers["X-Robots-Tag"] == "noindex"
    assert 'href="/issuers/atelier-velo"' in html
    assert re.search(r"Approved member of Évry since \w+ \d+, \d{4}\.", text)
    assert "Community and volunteering" in text
    assert "Réparer une crevaison" in text and "poser une rustine" in text
    assert "Très bien" in text and "A réparé seule." in text and "https://velo.example.org/photos/1" in html
    assert "Awarded on" in text and "Valid until No end date" in text
    for suffix in ("json", "jwt", "png", "svg"):
        assert f'href="/c/{public_id}.{suffix}"' in html
    # Every step, one tap away.
    assert html.count('<details class="step') == 11


def test_competencies_show_their_code_framework_and_external_references(client: FlaskClient, setup: Any) -> None:
    def build() -> str:
        from badgehub.achievements import service as achievements
        from badgehub.competencies.service import CompetencyFields, create_competency

        world = build_world()
        competency = create_competency(world.territory, world.coordinator, "NUM-1", CompetencyFields(
            name="Réparer un vélo", description="Diagnostiquer et réparer une crevaison.",
            esco_uri="http://data.europa.eu/esco/skill/abc-123", rncp_code="RS5678"))
        fields = achievements.AchievementFields(name="Mécanique", description="Bases de la mécanique vélo.",
                                                criteria_md="Une réparation.", competency_ids=[competency.id])
        achievement = achievements.create_achievement(world.a, world.owner_a, fields,
                                                      achievements.UploadedImage(BADGE_PNG))
        credential = issuing.issue_credential(organisation=world.a, achievement=achievement, recipient_email=EMAIL,
                                              recipient_name="", actor_id=None, source="cli", config=current_app.config)
        return str(credential.public_id)

    html = page_of(client, setup(build))
    text = text_of(html)
    assert "Réparer un vélo (NUM-1 · " in text and "Diagnostiquer et réparer une crevaison." in text
    assert 'href="http://localhost/competencies/evry/NUM-1"' in html
    assert 'href="http://data.europa.eu/esco/skill/abc-123"' in html and "ESCO:" in text
    assert "RNCP / RS: RS5678" in text


def test_the_verdict_comes_from_the_pipeline_not_from_database_flags(client: FlaskClient, setup: Any,
                                                                    world: dict[str, Any]) -> None:
    public_id = award(setup, world)

    def flag_revoked_without_touching_the_list() -> None:
        credential = issuing.get_credential(public_id)
        credential.revoked_at = dt.datetime.now(dt.UTC)
        credential.revocation_note = "Only in the database"

    setup(flag_revoked_without_touching_the_list)
    html = page_of(client, public_id)
    assert verdict_title(html) == "Valid"
    assert "Only in the database" not in html


def test_a_revoked_credential_says_when_and_the_public_reason_never_the_private_note(
        client: FlaskClient, setup: Any, world: dict[str, Any]) -> None:
    public_id = award(setup, world)
    setup(lambda: issuing.revoke_credential(issuing.get_credential(public_id), reason="error",
                                            note="Donné à Léa Martin au lieu de Sam", actor_id=None,
                                            config=current_app.config))
    text = text_of(page_of(client, public_id))
    assert "Revoked" in text and "The issuer has withdrawn this badge." in text
    assert re.search(r"Withdrawn on \w+ \d+, \d{4}", text)
    assert "Reason: Error in the award." in text
    assert "Léa Martin" not in text and "Donné à" not in text
    # Issue 16: the page said it was withdrawn three times; the step list alone keeps the pipeline's words.
    assert text.count("The issuer has revoked this credential.") == 1
    assert text.count("The issuer has withdrawn this badge.") == 1
    assert re.search(r"Withdrawn on \w+ \d+, \d{4}, \d+:\d\d [AP]M UTC\.", text)


def test_a_revocation_shows_on_the_next_view_although_the_signature_is_remembered(
        client: FlaskClient, setup: Any, world: dict[str, Any]) -> None:
    public_id = award(setup, world)
    assert verdict_title(page_of(client, public_id)) == "Valid"
    setup(lambda: issuing.revoke_credential(issuing.get_credential(public_id), note="Erreur", actor_id=None,
                                            config=current_app.config))
    assert verdict_title(page_of(client, public_id)) == "Revoked"


def test_after_a_key_rotation_the_list_is_signed_again_and_older_badges_stay_valid(
        client: FlaskClient, setup: Any, world: dict[str, Any]) -> None:
    public_id = award(setup, world)
    assert verdict_title(page_of(client, public_id)) == "Valid"

    def rotate() -> str:
        credential = issuing.get_credential(public_id)
        [new_ed25519] = rotate_keys(credential.organisation, bytes.fromhex(TEST_KEK), None,
                                    algorithms=[KeyAlgorithm.ED25519])
        return new_ed25519.key_id

    new_key = setup(rotate)
    old_key = setup(lambda: issuing.get_credential(public_id).status_list.signed_key_id)
    # The copy signed by the retired key is still true, and served as it is: a view signs nothing.
    assert verdict_title(page_of(client, public_id)) == "Valid"
    assert setup(lambda: issuing.get_credential(public_id).status_list.signed_key_id) == old_key != new_key
    # The refresh (run by the rotation command, and on schedule) signs it with the key now active.
    setup(lambda: refresh_status_lists(config=current_app.config))
    assert setup(lambda: issuing.get_credential(public_id).status_list.signed_key_id) == new_key
    assert verdict_title(page_of(client, public_id)) == "Valid"
    setup(lambda: issuing.revoke_credential(issuing.get_credential(public_id), note="Erreur", actor_id=None,
                                            config=current_app.config))
    assert verdict_title(page_of(client, public_id)) == "Revoked"


def test_a_key_declared_compromised_before_the_award_makes_the_badge_not_genuine(
        client: FlaskClient, setup: Any, world: dict[str, Any]) -> None:
    public_id = award(setup, world)
    assert verdict_title(page_of(client, public_id)) == "Valid"

    def compromise() -> None:
        credential = issuing.get_credential(public_id)
        organisation = credential.organisation
        key = active_key(organisation, KeyAlgorithm.ED25519)
        declare_compromised(key, credential.issued_at - dt.timedelta(minutes=1), None, "Laptop stolen")
        rotate_keys(organisation, bytes.fromhex(TEST_KEK), None, algorithms=[KeyAlgorithm.ED25519])

    setup(compromise)
    assert verdict_title(page_of(client, public_id)) == "Not genuine"


def test_a_page_view_reads_the_database_four_times(app: Flask, client: FlaskClient, setup: Any,
                                                   world: dict[str, Any]) -> None:
    # The credential (with its organisation, version and list), the organisation's keys, its memberships: one
    # read each, shared by the list's freshness, both proofs, the status and the standing (it was 13); and the
    # endorsements its holder shows (none here).
    public_id = award(setup, world)
    page_of(client, public_id)
    statements: list[str] = []

    def count(*_: Any) -> None:
        statements.append(_[2])

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert verdict_title(page_of(client, public_id)) == "Valid"
    finally:
        event.remove(engine, "before_cursor_execute", count)
    reads = [statement for statement in statements if statement.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 4, reads


def test_an_expired_credential_says_when_it_expired(client: FlaskClient, setup: Any, world: dict[str, Any]) -> None:
    public_id = award(setup, world, "workshop", now=dt.datetime.now(dt.UTC) - dt.timedelta(days=60))
    html = page_of(client, public_id)
    assert verdict_title(html) == "Expired"
    assert re.search(r"The credential expired on \w+ \d+, \d{4}", text_of(html))


def test_a_tampered_stored_document_is_not_genuine(client: FlaskClient, setup: Any, world: dict[str, Any]) -> None:
    public_id = award(setup, world)

    def tamper() -> None:
        credential = issuing.get_credential(public_id)
        document = json.loads(credential.document_json)
        document["credentialSubject"]["achievement"]["name"] = "Pilote de ligne"
        credential.document_json = json.dumps(document)

    setup(tamper)
    html = page_of(client, public_id)
    text = text_of(html)
    assert verdict_title(html) == "Not genuine"
    assert "The badge could not be confirmed: what follows is only what it says about itself." in text
    # A forged document never borrows the issuer's standing.
    assert "Approved member of" not in text


def test_an_issuer_suspended_from_its_territory_is_said_plainly(client: FlaskClient, setup: Any,
                                                               world: dict[str, Any]) -> None:
    public_id = award(setup, world)
    coordinator_decides(setup, world["a"], "suspend", "Badges sans preuves")
    html = page_of(client, public_id)
    text = text_of(html)
    assert verdict_title(html) == "Issuer suspended"
    assert "its issuer is suspended from Évry by the territory's coordinators" in text
    assert re.search(r"Suspended from Évry since \w+ \d+, \d{4}\.", text)
    # Reinstated: valid again, nothing cached.
    coordinator_decides(setup, world["a"], "reinstate")
    assert verdict_title(page_of(client, public_id)) == "Valid"


def test_an_issuer_that_is_no_territory_member_still_verifies_and_the_page_says_so(
        client: FlaskClient, setup: Any, world: dict[str, Any]) -> None:
    public_id = award(setup, world)
    coordinator_decides(setup, world["a"], "remove", "Association dissoute")
    html = page_of(client, public_id)
    text = text_of(html)
    assert verdict_title(html) == "Valid, issuer not vetted"
    assert "not an approved member of any learning territory on this platform" in text
    assert "Not an approved member of any learning territory on this platform." in text


def test_an_unknown_id_gets_a_friendly_404(client: FlaskClient) -> None:
    for public_id in ("abcdefghijkl", "nope", "ABCDEFGHIJKL"):
        response = client.get(f"/c/{public_id}")
        text = text_of(response.get_data(as_text=True))
        assert response.status_code == 404
        assert "No badge at this address" in text and "Verify a badge" in text
    assert client.post("/c/abcdefghijkl/holder", data={}).status_code in (400, 404)


def test_the_page_is_rendered_in_french(client: FlaskClient, setup: Any, world: dict[str, Any]) -> None:
    public_id = award(setup, world)
    html = page_of(client, public_id, **{"Accept-Language": "fr"})
    assert '<html lang="fr">' in html
    assert verdict_title(html) == "Valide"
    text = text_of(html)
    assert "Toutes les étapes de la vérification" in text
    assert "Approuvée comme membre d'Évry depuis le" in text


def test_the_pdf_certificate_is_linked_only_when_the_route_exists(app: Flask, client: FlaskClient, setup: Any,
                                                                  world: dict[str, Any]) -> None:
    public_id = award(setup, world)
    html = page_of(client, public_id)
    assert (f'href="/c/{public_id}.pdf"' in html) == ("certificates.credential_pdf" in app.view_functions)


# -- check the holder


def check_holder(client: FlaskClient, public_id: str, email: str, **kwargs: Any) -> Any:
    token = csrf_token_from(client.get(f"/c/{public_id}").get_data(as_text=True))
    return client.post(f"/c/{public_id}/holder", data={"csrf_token": token, "email": email}, **kwargs)


def holder_answer(html: str) -> str:
    match = re.search(r'id="holder-answer">(.*?)</div>', html, re.S)
    assert match, "no holder answer"
    return text_of(match.group(1)).strip()


def test_the_holder_check_says_match_case_insensitively(client: FlaskClient, setup: Any,
                                                        world: dict[str, Any]) -> None:
    public_id = award(setup, world)
    for typed in (EMAIL, "  lea.martin@EXAMPLE.net "):
        response = check_holder(client, public_id, typed)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        assert holder_answer(response.get_data(as_text=True)).startswith("Holder check Yes: this badge was issued to")


def test_the_holder_check_says_no_match(client: FlaskClient, setup: Any, world: dict[str, Any]) -> None:
    public_id = award(setup, world)
    response = check_holder(client, public_id, "someone.else@example.net")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "No: this badge was not issued to someone.else@example.net." in holder_answer(html)
    assert verdict_title(html) == "Not issued to this person"


def test_the_holder_check_refuses_what_is_not_an_address(client: FlaskClient, setup: Any,
                                                         world: dict[str, Any]) -> None:
    public_id = award(setup, world)
    for typed in ("", "not an address", "x" * 400 + "@example.net"):
        response = check_holder(client, public_id, typed)
        assert response.status_code == 400
        assert 'id="email-error"' in response.get_data(as_text=True)


def test_the_holder_check_needs_its_csrf_token(client: FlaskClient, setup: Any, world: dict[str, Any]) -> None:
    public_id = award(setup, world)
    response = client.post(f"/c/{public_id}/holder", data={"email": EMAIL})
    assert response.status_code == 400
    assert "csrf_failed" in response.get_data(as_text=True)


def test_the_holder_check_is_rate_limited_per_client_address(app: Flask, client: FlaskClient, setup: Any,
                                                             world: dict[str, Any]) -> None:
    app.config["RATELIMIT_HOLDER_CHECK"] = "2 per minute"
    public_id = award(setup, world)
    statuses = [check_holder(client, public_id, f"guess{n}@example.net").status_code for n in range(3)]
    assert statuses == [200, 200, 429]
    limited = check_holder(client, public_id, EMAIL)
    text = text_of(limited.get_data(as_text=True))
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    assert "Too many e-mail addresses were checked from your connection" in text
    assert check_holder(client, public_id, EMAIL, environ_base={"REMOTE_ADDR": "192.0.2.9"}).status_code == 200
    assert client.get(f"/c/{public_id}").status_code == 200  # reading the page is not limited


def test_the_typed_address_is_never_stored_or_logged(client: FlaskClient, setup: Any, world: dict[str, Any],
                                                     caplog: pytest.LogCaptureFixture, query: Any) -> None:
    public_id = award(setup, world)
    secret = "private.person@example.org"
    caplog.set_level("DEBUG")
    check_holder(client, public_id, secret)
    assert secret not in caplog.text

    def anywhere() -> bool:
        from badgehub.audit.models import AuditEvent

        events = db.session.scalars(db.select(AuditEvent)).all()
        rows = db.session.scalars(db.select(IssuedCredential)).all()
        return any(secret in json.dumps(e.details or {}) for e in events) or any(
            secret in (r.recipient_email or "") for r in rows)

    assert not query(anywhere)


# -- the registry's word on /verify and in the API


def test_verify_and_the_api_show_the_standing_of_our_own_issuers(client: FlaskClient, setup: Any,
                                                                 world: dict[str, Any]) -> None:
    public_id = award(setup, world)
    document = setup(lambda: issuing.get_credential(public_id).document_json)
    token = csrf_token_from(client.get("/verify").get_data(as_text=True))
    html = client.post("/verify", data={"csrf_token": token, "credential_text": document},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert re.search(r"Approved member of Évry since \w+ \d+, \d{4}\.", text_of(html))
    body = client.post("/api/v1/verify", data=document, content_type="application/json").get_json()
    standing = body["issuer_standing"]
    assert standing["status"] == "approved"
    assert standing["organisation"] == {"slug": "atelier-velo", "name": "Atelier Vélo", "sector": "community"}
    assert standing["memberships"][0]["territory"] == "evry" and standing["memberships"][0]["since"]

    coordinator_decides(setup, world["a"], "suspend", "Badges sans preuves")
    body = client.post("/api/v1/verify", data=document, content_type="application/json").get_json()
    assert body["issuer_standing"]["status"] == "suspended"
    assert body["issuer_standing"]["memberships"][0]["status"] == "suspended"


def test_a_forged_badge_naming_our_issuer_gets_no_standing(client: FlaskClient, setup: Any,
                                                           world: dict[str, Any]) -> None:
    public_id = award(setup, world)
    document = json.loads(setup(lambda: issuing.get_credential(public_id).document_json))
    document["name"] = "Forged"
    body = client.post("/api/v1/verify", json=document).get_json()
    assert body["verdict"] == "not_genuine"
    assert body["issuer_standing"] is None


@pytest.fixture
def examples(app: Flask) -> Path:
    if not EXAMPLES.is_dir():
        pytest.skip(f"shared example credentials not found at {EXAMPLES}")
    status_list = json.loads((EXAMPLES / "bitstring-status-list-credential.json").read_text(encoding="utf-8"))
    register_local_resolver(app, lambda: StaticResolver({BITSTRING_URL: status_list}))
    return EXAMPLES


def test_a_foreign_valid_badge_is_not_a_member_of_a_territory_here(client: FlaskClient, examples: Path) -> None:
    content = (examples / "ob3-v2-dual-proof-didkey.json").read_bytes()
    body = client.post("/api/v1/verify", data=content, content_type="application/json").get_json()
    assert body["verdict"] == "valid"
    assert body["issuer_standing"]["status"] == "not_on_platform"
    assert body["issuer_standing"]["organisation"] is None
    token = csrf_token_from(client.get("/verify").get_data(as_text=True))
    html = client.post("/verify", data={"csrf_token": token, "credential_text": content.decode()},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert verdict_title(html) == "Valid"
    assert "Not a member of a territory on this platform." in text_of(html)
