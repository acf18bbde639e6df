"""The Open Badges 3.0 API behind Authlib's OAuth server: registration, PKCE, consent, tokens, refresh,
revocation, connected applications, and the API's answers (credentials with paging headers, upsert,
profile, Imsx_StatusInfo errors, the OpenAPI document)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from sqlalchemy import select

from badgehub.audit.models import AuditEvent
from badgehub.extensions import db
from badgehub.issuing import service as issuing
from badgehub.oauth.models import OAuthToken
from badgehub.oauth.server import CREDENTIAL_READ, CREDENTIAL_UPSERT, PROFILE_READ, PROFILE_UPDATE
from tests.conftest import csrf_token_from, sign_in
from tests.functional.test_wallet import LEA, award, build_wallet_world, no_name_resolution

__all__ = ["no_name_resolution"]

REDIRECT = "https://platform.example/callback"
ALL = " ".join((CREDENTIAL_READ, CREDENTIAL_UPSERT, PROFILE_READ, PROFILE_UPDATE))


@pytest.fixture
def world(snapshot: Any) -> dict[str, Any]:
    return snapshot(build_wallet_world)


def register(client: FlaskClient, scope: str = ALL, **extra: Any) -> dict[str, Any]:
    response = client.post("/oauth/register", json={
        "client_name": "Portfolio Platform", "client_uri": "https://platform.example/",
        "redirect_uris": [REDIRECT], "scope": scope, "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"], "token_endpoint_auth_method": "client_secret_basic", **extra})
    assert response.status_code == 201, response.get_data(as_text=True)
    return dict(response.get_json())


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_url(app: dict[str, Any], challenge: str | None, scope: str = ALL, redirect: str = REDIRECT) -> str:
    params = {"response_type": "code", "client_id": app["client_id"], "redirect_uri": redirect, "scope": scope,
              "state": "xyz"}
    if challenge is not None:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    return "/oauth/authorize?" + urlencode(params)


def consent(client: FlaskClient, url: str, decision: str = "allow") -> Any:
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token_from(page.get_data(as_text=True)), "decision": decision})


def basic(app: dict[str, Any]) -> dict[str, str]:
    raw = f"{app['client_id']}:{app['client_secret']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def code_from(response: Any) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


def exchange(client: FlaskClient, app: dict[str, Any], code: str, verifier: str | None) -> Any:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    if verifier is not None:
        data["code_verifier"] = verifier
    return client.post("/oauth/token", data=data, headers=basic(app))


def tokens(client: FlaskClient, world: dict[str, Any], scope: str = ALL) -> tuple[dict[str, Any], dict[str, Any]]:
    app = register(client)
    verifier, challenge = pkce()
    sign_in(client, world["lea"])
    code = code_from(consent(client, authorize_url(app, challenge, scope)))
    response = exchange(client, app, code, verifier)
    assert response.status_code == 200, response.get_json()
    return app, response.get_json()


def bearer(token: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token['access_token']}"}


def imsx_minor(response: Any) -> str:
    body = response.get_json()
    assert body["imsx_codeMajor"] == "failure" and body["imsx_severity"] == "error"
    return str(body["imsx_codeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"])


def test_discovery_is_a_valid_openapi_document_with_the_oauth_scheme(client: FlaskClient) -> None:
    document = client.get("/ims/ob/v3p0/discovery").get_json()
    validate(document)
    scheme = document["components"]["securitySchemes"]["OAuth2ACG"]
    assert scheme["x-imssf-registrationUrl"] == "http://localhost/oauth/register"
    assert set(scheme["flows"]["authorizationCode"]["scopes"]) == set(ALL.split())
    metadata = client.get("/.well-known/oauth-authorization-server").get_json()
    assert metadata["issuer"] == "http://localhost"
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["registration_endpoint"] == "http://localhost/oauth/register"


def test_consent_lists_the_application_and_scopes_then_lists_and_pages_credentials(
        client: FlaskClient, setup: Any, world: dict[str, Any]) -> None:
    for _ in range(3):
        award(setup, world, LEA)
    app = register(client)
    verifier, challenge = pkce()
    sign_in(client, world["lea"])
    page = client.get(authorize_url(app, challenge)).get_data(as_text=True)
    assert "Portfolio Platform" in page and "Read the badges in your wallet" in page
    code = code_from(client.post(authorize_url(app, challenge), data={
        "csrf_token": csrf_token_from(page), "decision": "allow"}))
    token = exchange(client, app, code, verifier).get_json()
    assert token["token_type"].lower() == "bearer" and token["refresh_token"]
    first = client.get("/ims/ob/v3p0/credentials?limit=2", headers=bearer(token))
    assert first.status_code == 200
    assert first.headers["X-Total-Count"] == "3"
    assert len(first.get_json()["credential"]) == 2
    assert 'rel="next"' in first.headers["Link"] and "offset=2" in first.headers["Link"]
    second = client.get("/ims/ob/v3p0/credentials?limit=2&offset=2", headers=bearer(token))
    assert len(second.get_json()["credential"]) == 1 and 'rel="next"' not in second.headers["Link"]
    assert all(c["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
               for c in first.get_json()["credential"] + second.get_json()["credential"])


def test_a_token_without_the_scope_is_refused_with_imsx_status(client: FlaskClient, world: dict[str, Any]) -> None:
    _, token = tokens(client, world, scope=PROFILE_READ)
    refused = client.get("/ims/ob/v3p0/credentials", headers=bearer(token))
    assert refused.status_code == 403
    assert imsx_minor(refused) == "forbidden"
    assert client.get("/ims/ob/v3p0/profile", headers=bearer(token)).status_code == 200
    missing = client.get("/ims/ob/v3p0/profile")
    assert (missing.status_code, imsx_minor(missing)) == (401, "unauthorizedrequest")


def test_a_registration_that_is_not_a_json_object_is_refused_in_json(client: FlaskClient) -> None:
    for kwargs in ({"json": [1, 2]}, {"data": "hello", "content_type": "text/plain"},
                   {"data": "{bad", "content_type": "application/json"}, {"json": {"client_name": "No redirect"}}):
        refused = client.post("/oauth/register", **kwargs)
        assert refused.status_code == 400, kwargs
        assert refused.get_json()["error"] in ("invalid_client_metadata", "invalid_request"), kwargs


def test_an_unregistered_redirect_uri_is_refused_without_redirecting(client: FlaskClient,
                                                                     world: dict[str, Any]) -> None:
    app = register(client)
    sign_in(client, world["lea"])
    response = client.get(authorize_url(app, pkce()[1], redirect="https://evil.example/steal"))
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_pkce_is_required_and_checked(client: FlaskClient, world: dict[str, Any]) -> None:
    app = register(client)
    sign_in(client, world["lea"])
    assert client.get(authorize_url(app, None)).status_code == 400
    verifier, challenge = pkce()
    code = code_from(consent(client, authorize_url(app, challenge)))
    missing = exchange(client, app, code, None)
    assert (missing.status_code, missing.get_json()["error"]) == (400, "invalid_request")
    code = code_from(consent(client, authorize_url(app, challenge)))
    wrong = exchange(client, app, code, pkce()[0])
    assert (wrong.status_code, wrong.get_json()["error"]) == (400, "invalid_grant")
    assert exchange(client, app, code, verifier).get_json()["error"] == "invalid_grant"  # the code is spent


def test_denying_consent_sends_access_denied(client: FlaskClient, world: dict[str, Any], query: Any) -> None:
    app = register(client)
    sign_in(client, world["lea"])
    french = client.get(authorize_url(app, pkce()[1]), headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Connecter Portfolio Platform à votre portefeuille\u00a0?" in french and "Lire les badges" in french
    response = consent(client, authorize_url(app, pkce()[1]), decision="deny")
    assert parse_qs(urlsplit(response.headers["Location"]).query)["error"] == ["access_denied"]
    assert query(lambda: db.session.scalar(select(AuditEvent.action).where(
        AuditEvent.action.like("oauth.%")))) == "oauth.application_denied"


def test_an_expired_access_token_is_refused_and_refresh_gives_a_new_one(client: FlaskClient, setup: Any,
                                                                       world: dict[str, Any]) -> None:
    app, token = tokens(client, world)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    setup(lambda: db.session.execute(db.update(OAuthToken).values(expires_at=past)))
    expired = client.get("/ims/ob/v3p0/profile", headers=bearer(token))
    assert (expired.status_code, imsx_minor(expired)) == (401, "unauthorizedrequest")
    refreshed = client.post("/oauth/token", data={"grant_type": "refresh_token",
                                                  "refresh_token": token["refresh_token"]}, headers=basic(app))
    assert refreshed.status_code == 200, refreshed.get_json()
    assert client.get("/ims/ob/v3p0/profile", headers=bearer(refreshed.get_json())).status_code == 200
    again = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
                        headers=basic(app))
    assert again.get_json()["error"] == "invalid_grant"  # rotated: the old refresh token is spent


def test_revocation_ends_the_token(client: FlaskClient, world: dict[str, Any]) -> None:
    app, token = tokens(client, world)
    assert client.post("/oauth/revoke", data={"token": token["access_token"]}, headers=basic(app)).status_code == 200
    assert client.get("/ims/ob/v3p0/profile", headers=bearer(token)).status_code == 401


def test_the_learner_sees_connected_applications_and_disconnects_one(client: FlaskClient,
                                                                     world: dict[str, Any]) -> None:
    _, token = tokens(client, world)
    page = client.get("/account/applications").get_data(as_text=True)
    assert "Portfolio Platform" in page and "Change your name" in page
    form = re.search(r'action="(/account/applications/[^"]+/disconnect)"', page)
    assert form
    response = client.post(form.group(1), data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 302
    assert "Portfolio Platform" not in client.get("/account/applications").get_data(as_text=True)
    assert client.get("/ims/ob/v3p0/profile", headers=bearer(token)).status_code == 401


def test_profile_reads_and_updates_the_name_only(client: FlaskClient, world: dict[str, Any]) -> None:
    _, token = tokens(client, world)
    profile = client.get("/ims/ob/v3p0/profile", headers=bearer(token)).get_json()
    assert profile["type"] == ["Profile"] and profile["email"] == LEA.lower()
    updated = client.put("/ims/ob/v3p0/profile", json={**profile, "name": "Léa M."}, headers=bearer(token))
    assert updated.status_code == 200 and updated.get_json()["name"] == "Léa M."
    refused = client.put("/ims/ob/v3p0/profile", json={"name": "X", "email": "other@example.org"},
                         headers=bearer(token))
    assert (refused.status_code, imsx_minor(refused)) == (400, "invalid_data")


def test_upsert_keeps_a_verified_credential_once_and_refuses_a_forged_one(client: FlaskClient, setup: Any,
                                                                         world: dict[str, Any]) -> None:
    elsewhere = award(setup, world, "someone@example.net")
    document = setup(lambda: issuing.get_credential(elsewhere).document_json)
    _, token = tokens(client, world)
    headers = {**bearer(token), "Content-Type": "application/json"}
    created = client.post("/ims/ob/v3p0/credentials", data=document, headers=headers)
    assert created.status_code == 201, created.get_json()
    assert client.post("/ims/ob/v3p0/credentials", data=document, headers=headers).status_code == 200
    listed = client.get("/ims/ob/v3p0/credentials", headers=bearer(token))
    assert listed.headers["X-Total-Count"] == "1"
    forged = json.loads(document)
    forged["credentialSubject"]["achievement"]["name"] = "Something else"
    refused = client.post("/ims/ob/v3p0/credentials", data=json.dumps(forged), headers=headers)
    assert (refused.status_code, imsx_minor(refused)) == (400, "invalid_data")
    assert client.get("/ims/ob/v3p0/credentials", headers=bearer(token)).headers["X-Total-Count"] == "1"
    token_form = setup(lambda: issuing.get_credential(award(setup, world, "third@example.net")).vc_jwt)
    as_jws = client.post("/ims/ob/v3p0/credentials", data=token_form,
                         headers={**bearer(token), "Content-Type": "text/plain"})
    assert (as_jws.status_code, as_jws.mimetype, as_jws.get_data(as_text=True)) == (201, "text/plain", token_form)
    listed = client.get("/ims/ob/v3p0/credentials", headers=bearer(token)).get_json()
    assert listed["compactJwsString"] == [token_form] and len(listed["credential"]) == 1
    for body, kind in (('{"name": "not a badge"}', "application/json"), ("aaa.bbb.ccc", "text/plain"),
                       ("<xml/>", "application/xml")):
        unreadable = client.post("/ims/ob/v3p0/credentials", data=body, headers={**bearer(token), "Content-Type": kind})
        assert unreadable.status_code in (400, 415), (body, unreadable.status_code)
        assert imsx_minor(unreadable) == "invalid_data", body
    bad_query = client.get("/ims/ob/v3p0/credentials?limit=0", headers=bearer(token))
    assert (bad_query.status_code, imsx_minor(bad_query)) == (400, "invalid_query_parameter")
