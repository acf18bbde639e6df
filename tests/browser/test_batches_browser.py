"""An issuer awards a badge to a list on a phone: the file picked, the preview with its problems in words, the
confirmation, the results. Every page passes axe-core's WCAG 2.1 A/AA rules and fits a 390 px wide screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import current_app
from sqlalchemy import func, select

from badgehub.accounts.service import issue_sign_in_link
from badgehub.extensions import db
from badgehub.issuing.models import IssuedCredential
from tests.browser.conftest import LiveServer
from tests.browser.test_verify_browser import axe_source, axe_violations
from tests.factories import build_world

__all__ = ["axe_source"]  # the fixture, imported so that this module can use it

LIST = ("Prénom;Nom;Courriel;Début;Quartier\r\n"
        "Léa;Martin;lea@example.net;01/03/2025;centre\r\n"
        "Sam;Durand;sam@example.net;;gare\r\n"
        "Zoé;Faux;pas-une-adresse;;\r\n")


def fits_a_phone(page: Any, source: str) -> None:
    assert axe_violations(page, source) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.browser
def test_an_issuer_awards_a_badge_to_a_list_on_a_phone(page: Any, live_server: LiveServer, axe_source: str,
                                                       tmp_path: Path) -> None:
    from playwright.sync_api import expect

    with live_server.app.test_request_context():
        world = build_world()
        slug, badge = world.a.slug, world.repair.public_id
        token = issue_sign_in_link(world.issuer_a, config=current_app.config).token
        db.session.commit()
    upload = tmp_path / "atelier.csv"
    upload.write_bytes(LIST.encode("cp1252"))

    page.goto(f"{live_server.url}/sign-in/link/{token}")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/organisations/*")  # where staff land after signing in

    page.goto(f"{live_server.url}/organisations/{slug}/achievements/{badge}/award")
    page.get_by_role("link", name="Award it to a whole list of participants (CSV)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Award from a list (CSV)")
    expect(page.get_by_label("Badge to award")).to_have_value(badge)
    fits_a_phone(page, axe_source)
    page.get_by_label("CSV file").set_input_files(str(upload))
    page.get_by_role("button", name="Check the list").click()
    page.wait_for_url(f"**/organisations/{slug}/batches/*")
    expect(page.get_by_text("Problem: not awarded")).to_be_visible()
    expect(page.get_by_text("read as Windows-1252", exact=False)).to_be_visible()
    fits_a_phone(page, axe_source)

    page.get_by_role("button", name="Award the badge to 2 people").click()
    expect(page.get_by_text("2 badges were awarded")).to_be_visible()
    expect(page.get_by_text("Awarded", exact=True).first).to_be_visible()
    fits_a_phone(page, axe_source)
    with live_server.app.app_context():
        assert db.session.scalar(select(func.count(IssuedCredential.id))) == 2
