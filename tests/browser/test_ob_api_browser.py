"""A platform connects to a learner's wallet through the Open Badges 3.0 API the way an independent client
would: Authlib's OAuth 2.0 client (not the server code) registers dynamically, sends the learner to the consent
page with PKCE (S256), where the learner clicks "Allow" in Chromium, trades the code, lists the wallet, upserts
a badge from elsewhere, and a token without the credential scope is refused. The consent page and the connected
applications page pass axe-core's WCAG 2.1 A/AA rules and fit a 390 px screen; disconnecting ends the access."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from flask import current_app

from badgehub.accounts.service import create_user, issue_sign_in_link
from badgehub.achievements.service import public_achievement
from badgehub.extensions import db
from badgehub.issuing import service as issuing
from badgehub.oauth.server import CREDENTIAL_READ, CREDENTIAL_UPSERT, PROFILE_READ
from tests.browser.conftest import LiveServer
from tests.browser.test_verify_browser import axe_source, axe_violations
from tests.factories import build_world

__all__ = ["axe_source"]

LEA = "lea@example.net"


def fits_a_phone(page: Any, source: str) -> None:
    assert axe_violations(page, source) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def _world(server: LiveServer) -> tuple[str, str]:
    """Léa with one badge and a sign-in link; a badge of someone else to upsert. Returns (link, document)."""
    with server.app.test_request_context():
        ids = build_world().ids()
        lea = create_user(LEA, name="Léa", verified=True)
        achievement = public_achievement(ids["repair"])
        for email in (LEA, "other@example.net"):
            credential = issuing.issue_credential(organisation=achievement.organisation, achievement=achievement,
                                                  recipient_email=email, recipient_name="X", actor_id=None,
                                                  source="cli", config=current_app.config)
        link = issue_sign_in_link(lea, config=current_app.config).token
        db.session.commit()
        return link, credential.document_json


def _register(http: requests.Session, server: LiveServer, scope: str) -> dict[str, Any]:
    response = http.post(f"{server.url}/oauth/register", json={
        "client_name": f"Portfolio {secrets.token_hex(2)}", "client_uri": "https://portfolio.example/",
        "redirect_uris": [f"{server.url}/callback"], "scope": scope,
        "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic"}, timeout=10)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _connect(page: Any, server: LiveServer, axe: str, registered: dict[str, Any], scope: str) -> OAuth2Session:
    from playwright.sync_api import expect

    client = OAuth2Session(registered["client_id"], registered["client_secret"], scope=scope,
                           redirect_uri=f"{server.url}/callback", code_challenge_method="S256")
    client.trust_env = False
    verifier = secrets.token_urlsafe(48)
    url, _state = client.create_authorization_url(f"{server.url}/oauth/authorize", code_verifier=verifier)
    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Connect {registered['client_name']} to your wallet?")
    fits_a_phone(page, axe)
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url("**/callback?**")
    client.fetch_token(f"{server.url}/oauth/token", authorization_response=page.url, code_verifier=verifier)
    return client


@pytest.mark.browser
def test_a_platform_connects_lists_upserts_and_is_refused_outside_its_scope(
        page: Any, live_server: LiveServer, axe_source: str) -> None:
    from playwright.sync_api import expect

    link, foreign_document = _world(live_server)
    page.goto(f"{live_server.url}/sign-in/link/{link}")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/wallet")  # a learner lands on the wallet
    http = requests.Session()
    http.trust_env = False
    api = f"{live_server.url}/ims/ob/v3p0"

    full = _register(http, live_server, f"{CREDENTIAL_READ} {CREDENTIAL_UPSERT}")
    client = _connect(page, live_server, axe_source, full, f"{CREDENTIAL_READ} {CREDENTIAL_UPSERT}")
    listed = client.get(f"{api}/credentials", timeout=10)
    assert listed.status_code == 200 and listed.headers["X-Total-Count"] == "1"
    assert listed.json()["credential"][0]["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    upserted = client.post(f"{api}/credentials", data=foreign_document,
                           headers={"Content-Type": "application/json"}, timeout=30)
    assert upserted.status_code == 201, upserted.text
    assert client.get(f"{api}/credentials", timeout=10).headers["X-Total-Count"] == "2"

    narrow = _register(http, live_server, PROFILE_READ)
    profile_only = _connect(page, live_server, axe_source, narrow, PROFILE_READ)
    assert profile_only.get(f"{api}/profile", timeout=10).json()["email"] == LEA
    refused = profile_only.get(f"{api}/credentials", timeout=10)
    assert refused.status_code == 403
    assert refused.json()["imsx_codeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == "forbidden"

    page.goto(f"{live_server.url}/account")
    page.get_by_role("link", name="Connected applications").click()
    expect(page.get_by_role("heading", name=full["client_name"])).to_be_visible()
    fits_a_phone(page, axe_source)
    page.get_by_role("button", name=f"Disconnect {full['client_name']}").click()
    expect(page.get_by_role("heading", name=full["client_name"])).to_have_count(0)
    assert client.get(f"{api}/credentials", timeout=10).status_code == 401
