"""``/c/<id>.pdf``: the printable certificate of an issued credential, public like the badge image."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import current_app

from badgehub.accounts.service import get_user_by_email
from badgehub.achievements import service as achievements
from badgehub.competencies.service import CompetencyFields, create_competency
from badgehub.extensions import db
from badgehub.issuing import service as issuing
from badgehub.keys.models import KeyAlgorithm
from badgehub.keys.service import active_key, declare_compromised
from badgehub.printing.certificate import certificate_data
from badgehub.web.caching import PUBLIC_DOCUMENT
from tests.conftest import sign_in
from tests.factories import BADGE_PNG, WORKSHOP, build_world
from tests.unit.printing.pdftools import decode_pdf_qr, flat, metadata, page_count, pdf_text


def _issue(achievement: Any, *, name: str = "Zoë Ćwikła", email: str = "zoe@example.net") -> str:
    return str(issuing.issue_credential(
        organisation=achievement.organisation, achievement=achievement, recipient_email=email,
        recipient_name=name, actor_id=None, source="cli", config=current_app.config).public_id)


def _shared_world() -> dict[str, Any]:
    """The world these tests share: a ``snapshot`` build, made once per test process."""
    built = build_world()
    competency = create_competency(built.territory, built.coordinator, "MEC-2", CompetencyFields(
        name="Réparer un vélo", esco_uri="http://data.europa.eu/esco/skill/0123", rncp_code="RNCP34567"))
    fields = achievements.AchievementFields(**{**WORKSHOP.__dict__, "name": "Animer un atelier vélo",
                                               "competency_ids": [competency.id]})
    aligned = achievements.create_achievement(built.a, built.owner_a, fields,
                                              achievements.UploadedImage(BADGE_PNG))
    ids = built.ids()
    ids["aligned"] = _issue(aligned)
    ids["repair_credential"] = _issue(built.repair, name="Nguyễn Văn An", email="an@example.net")
    ids["svg_credential"] = _issue(built.reading, name="محمد", email="m@example.net")
    return ids


@pytest.fixture
def world(snapshot: Any) -> dict[str, Any]:
    return snapshot(_shared_world)


def test_certificate_data_reads_what_the_credential_says(world, query):
    def read() -> Any:
        return certificate_data(issuing.get_credential(world["aligned"]), current_app.config)

    data = query(read)
    assert data.url == f"http://localhost/c/{world['aligned']}"
    assert data.achievement_name == "Animer un atelier vélo"
    assert data.issuer_name == "Atelier Vélo"
    assert data.issuer_url == "https://velo.example.org"
    assert data.recipient_name == "Zoë Ćwikła"
    assert data.valid_until is not None  # the workshop badge is valid 30 days
    assert data.criteria == "Animer au moins une séance de deux heures."
    [competency] = data.competencies
    assert (competency.code, competency.name) == ("MEC-2", "Réparer un vélo")
    assert competency.references == ("http://data.europa.eu/esco/skill/0123", "RNCP34567")
    assert data.image and data.image_media_type == "image/png"


def test_pdf_is_public_inline_and_its_qr_code_decodes_to_the_credential_page(world, client):
    response = client.get(f"/c/{world['aligned']}.pdf?lang=en")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f'inline; filename="animer-un-atelier-velo-{world["aligned"]}.pdf"')
    assert response.headers["X-Robots-Tag"] == "noindex"
    pdf = response.get_data()
    assert page_count(pdf) == 1
    assert decode_pdf_qr(pdf) == [f"http://localhost/c/{world['aligned']}"]
    text = flat(pdf_text(pdf))
    for expected in ("Animer un atelier vélo", "Atelier Vélo", "Zoë Ćwikła", "MEC-2 — Réparer un vélo",
                     "RNCP34567", "Awarded on", "Valid until", f"http://localhost/c/{world['aligned']}"):
        assert expected in text, expected
    assert metadata(pdf)["Author"] == "Atelier Vélo"


def test_unknown_or_malformed_id_is_404(world, client):
    assert client.get("/c/AAAAAAAAAAAA.pdf").status_code == 404
    assert client.get("/c/not-an-id!.pdf").status_code == 404


def test_language_comes_from_the_query_then_the_user_then_the_browser(world, client, query):
    url = f"/c/{world['repair_credential']}.pdf"
    french = client.get(url + "?lang=fr")
    assert french.headers["Content-Language"] == "fr"
    assert b"/Lang (fr)" in french.get_data()
    assert "Vary" not in french.headers or "Accept-Language" not in french.headers["Vary"]
    english = client.get(url + "?lang=en")
    assert b"/Lang (en)" in english.get_data()
    assert english.headers["ETag"] != french.headers["ETag"]

    by_browser = client.get(url, headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert by_browser.headers["Content-Language"] == "fr"
    assert "Accept-Language" in by_browser.headers["Vary"]
    assert client.get(url, headers={"Accept-Language": "en-GB"}).headers["Content-Language"] == "en"
    # An unknown ?lang is ignored rather than refused.
    assert client.get(url + "?lang=xx", headers={"Accept-Language": "en"}).headers["Content-Language"] == "en"

    def english_user() -> str:
        user = get_user_by_email("owner_a@example.org")
        user.locale = "en"
        db.session.commit()
        return str(user.get_id())

    sign_in(client, query(english_user))
    signed_in = client.get(url, headers={"Accept-Language": "fr"})
    assert signed_in.headers["Content-Language"] == "en"


def test_french_certificate_prints_french_dates(world, client):
    text = flat(pdf_text(client.get(f"/c/{world['aligned']}.pdf?lang=fr").get_data()))
    months = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre")
    assert any(month in text for month in months)


def test_etag_answers_304_and_public_cache_like_the_other_documents(world, client):
    url = f"/c/{world['repair_credential']}.pdf?lang=en"
    first = client.get(url)
    assert first.headers["Cache-Control"] == PUBLIC_DOCUMENT
    etag = first.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert client.get(url).get_data() == first.get_data()


def test_revocation_changes_the_etag_and_the_certificate_says_revoked(world, client, setup):
    url = f"/c/{world['repair_credential']}.pdf?lang=en"
    before = client.get(url)

    def revoke() -> None:
        issuing.revoke_credential(issuing.get_credential(world["repair_credential"]), note="Erreur de saisie",
                                  actor_id=None, config=current_app.config)

    setup(revoke)
    after = client.get(url, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert "This badge was revoked on" in flat(pdf_text(after.get_data()))


def test_a_certificate_whose_badge_no_longer_verifies_says_so(world, client, setup):
    url = f"/c/{world['repair_credential']}.pdf?lang=fr"
    before = client.get(url)
    assert "ne peut plus être confirmé" not in flat(pdf_text(before.get_data()))

    def compromise() -> None:
        credential = issuing.get_credential(world["repair_credential"])
        key = active_key(credential.organisation, KeyAlgorithm.ED25519)
        declare_compromised(key, credential.issued_at - dt.timedelta(minutes=1), None, "Ordinateur volé")

    setup(compromise)
    after = client.get(url, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert "Ce badge ne peut plus être confirmé comme authentique." in flat(pdf_text(after.get_data()))


def test_unicode_names_and_svg_badges_print(world, client):
    for key, name in (("repair_credential", "Nguyễn Văn An"), ("svg_credential", "محمد")):
        pdf = client.get(f"/c/{world[key]}.pdf?lang=en").get_data()
        assert page_count(pdf) == 1
        assert decode_pdf_qr(pdf) == [f"http://localhost/c/{world[key]}"]
        if key == "repair_credential":
            assert name in flat(pdf_text(pdf))


def test_certificates_are_rate_limited_per_client(world, app, client):
    app.config["RATELIMIT_CERTIFICATE"] = "3 per minute"
    url = f"/c/{world['repair_credential']}.pdf?lang=en"
    statuses = [client.get(url).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
