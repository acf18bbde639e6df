"""The three states a reader must tell apart, on a phone, in English and in French, axe-clean: valid (green), the
signature intact but the issuer unconfirmed (amber), and not valid (red), on /verify and on /c/<id>.

The badges come from the forgery matrix (``tests/forgeries.py``): a genuine did:key badge, a badge whose key is
only written in it (a ``urn:uuid`` issuer), and a did:key badge signed with another key carried in its JWT
header. None needs the network.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import current_app

from badgehub.extensions import db
from badgehub.issuing import service as issuing
from badgehub.verification import fetch as fetch_module
from tests.browser.conftest import LiveServer
from tests.browser.test_verify_browser import axe_source as axe_source
from tests.browser.test_verify_browser import axe_violations
from tests.factories import build_world as build_issuing_world
from tests.forgeries import Case, build_world, forgeries

STATES = {
    # state: (row of the matrix, English title, French title, tone)
    "valid": ("did:key di genuine", "✓ Valid", "✓ Valide", "ok"),
    "issuer_unconfirmed": ("urn:uuid di own key in fragment",
                           "! Signature intact, but nothing confirms that this issuer made it",
                           "! Signature intacte, mais rien ne confirme que cet émetteur l'a faite", "warn"),
    "not_valid": ("did:key jwt own key in jwk header", "✗ Not genuine", "✗ Non authentique", "bad"),
}
LOCALES = {"en": "en-GB", "fr": "fr-FR"}


@pytest.fixture(autouse=True)
def no_name_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dns(host: str, port: int) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "no name resolution in tests")

    monkeypatch.setattr(fetch_module, "resolve_addresses", no_dns)


@pytest.fixture(scope="module")
def cases() -> dict[str, Case]:
    return {case.name: case for case in forgeries(build_world("issuers.example"))}


def _page(browser: Any, live_server: LiveServer, locale: str) -> Iterator[Any]:
    context = browser.new_context(locale=locale, viewport={"width": 390, "height": 844})
    foreign: list[str] = []

    def only_our_server(route: Any) -> None:
        if route.request.url.startswith(live_server.url + "/"):
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    context.route("**/*", only_our_server)
    try:
        yield context.new_page()
    finally:
        context.close()
    assert foreign == [], f"the page asked for something outside the app: {foreign}"


@pytest.fixture(params=sorted(LOCALES))
def localised(request: pytest.FixtureRequest, browser: Any, live_server: LiveServer) -> Iterator[tuple[str, Any]]:
    """(language, a phone-sized page in that language that may only talk to the live server)."""
    pages = _page(browser, live_server, LOCALES[request.param])
    yield request.param, next(pages)
    next(pages, None)


def _check_verdict(page: Any, state: str, language: str, axe: str) -> None:
    from playwright.sync_api import expect

    _, english, french, tone = STATES[state]
    expect(page.get_by_role("heading", level=1)).to_have_text(english if language == "en" else french)
    assert page.locator(f"section.verdict.verdict-{tone}").count() == 1
    assert page.evaluate("document.documentElement.lang") == language
    assert axe_violations(page, axe) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.browser
def test_verify_shows_each_state_in_words_on_a_phone(localised: tuple[str, Any], live_server: LiveServer,
                                                      cases: dict[str, Case], axe_source: str,
                                                      tmp_path: Path) -> None:
    language, page = localised
    for state, (row, *_rest) in STATES.items():
        case = cases[row]
        badge = tmp_path / ("badge.json" if isinstance(case.data, dict) else "badge.jwt")
        badge.write_text(json.dumps(case.data) if isinstance(case.data, dict) else case.data, encoding="utf-8")
        page.goto(f"{live_server.url}/verify")
        page.locator("input[name=credential_file]").set_input_files(str(badge))
        page.locator("form button.primary[type=submit]").click()
        page.wait_for_load_state()
        _check_verdict(page, state, language, axe_source)


def _stored_badges(live_server: LiveServer, documents: dict[str, dict[str, Any] | None]) -> dict[str, str]:
    """One credential issued here per state; a document replaces what is stored, as if the row had been altered
    (the page verifies what is stored, live, so it must say what that badge deserves)."""
    with live_server.app.test_request_context():
        world = build_issuing_world()
        public_ids = {}
        for state, document in documents.items():
            credential = issuing.issue_credential(
                organisation=world.a, achievement=world.repair, recipient_email="lea.martin@example.net",
                recipient_name="Léa Martin", actor_id=None, source="cli", config=current_app.config)
            if document is not None:
                credential.document_json = json.dumps(document)
            public_ids[state] = str(credential.public_id)
        db.session.commit()
        return public_ids


@pytest.mark.browser
def test_the_credential_page_shows_each_state_in_words_on_a_phone(localised: tuple[str, Any],
                                                                  live_server: LiveServer, cases: dict[str, Case],
                                                                  axe_source: str) -> None:
    language, page = localised
    # Our own credential is valid; the page verifies the stored JSON, so the not-valid state is the Data
    # Integrity forgery of the matrix (a did:key badge signed by another did:key).
    public_ids = _stored_badges(live_server, {
        "valid": None,
        "issuer_unconfirmed": _as_dict(cases[STATES["issuer_unconfirmed"][0]].data),
        "not_valid": _as_dict(cases["did:key di another did:key"].data),
    })
    for state, public_id in public_ids.items():
        page.goto(f"{live_server.url}/c/{public_id}")
        _check_verdict(page, state, language, axe_source)
    assert re.search("Who issued it|Qui l'a délivré", page.content()) is None  # the last one is not genuine


def _as_dict(data: dict[str, Any] | str) -> dict[str, Any]:
    assert isinstance(data, dict)
    return data
