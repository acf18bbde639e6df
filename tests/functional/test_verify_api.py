"""POST /api/v1/verify: the public verification API, its request forms, its JSON report, its errors and CORS.

Offline like the page's tests: no name resolves, connections only to loopback, and the examples' status list
comes through the platform's hook for local documents.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext

from badgehub.verification.platform import register_local_resolver
from badgehub.verification.report import CHECK_IDS, MESSAGES
from badgehub.verification.resolver import StaticResolver

EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "ob3-examples"
BITSTRING_URL = (
    "https://raw.githubusercontent.com/1EdTech/digital-credentials-public-validator/refs/heads/main/"
    "inspector-vc/src/test/resources/ob30/bit-string-list/testlist"
)
EXPECTED = {
    "ob3-v2-simple-eddsa-rdfc-2022.json": ("issuer_unconfirmed", True),
    "ob3-v2-testvector-eddsa-rdfc-2022.json": ("issuer_unconfirmed", True),
    "ob3-v2-complete-eddsa-rdfc-2022.json": ("issuer_unconfirmed", True),
    "ob3-v2-didkey-eddsa-rdfc-2022.json": ("issuer_unconfirmed", True),
    "ob3-v2-dual-proof-didkey.json": ("valid", True),
    "ob3-v2-simple-vcjwt-rs256.jwt": ("issuer_unconfirmed", True),
    "ob3-v1-simple-vcjwt-rs256.jwt": ("issuer_unconfirmed", True),
    "ob3-v1-simple-ed25519signature2020.json": ("issuer_unconfirmed", True),
    "ob3-v1-1edtech-revocationlist-refresh-didweb.json": ("check_later", False),
    "ob3-v2-bitstring-revoked.json": ("revoked", False),
    "bitstring-status-list-credential.json": ("issuer_unconfirmed", True),
    "endorsement-v2-eddsa-rdfc-2022.json": ("issuer_unconfirmed", True),
    "baked-ob3-v2-json.png": ("issuer_unconfirmed", True),
    "baked-ob3-v2-json.svg": ("issuer_unconfirmed", True),
    "baked-ob3-v2-jwt.png": ("issuer_unconfirmed", True),
    "baked-ob3-v2-jwt.svg": ("issuer_unconfirmed", True),
    "baked-ob3-v1-jwt.svg": ("issuer_unconfirmed", True),
    "NEG-ob3-v2-bad-proofvalue.json": ("not_genuine", False),
    "NEG-ob3-v2-injected-undefined-terms.json": ("not_genuine", False),
}
API = "/api/v1/verify"


# No name resolves, and a connection anywhere but to loopback fails the test (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("offline")


@pytest.fixture
def examples(app: Flask) -> Path:
    if not EXAMPLES.is_dir():
        pytest.skip(f"shared example credentials not found at {EXAMPLES}")
    status_list = json.loads((EXAMPLES / "bitstring-status-list-credential.json").read_text(encoding="utf-8"))
    register_local_resolver(app, lambda: StaticResolver({BITSTRING_URL: status_list}))
    return EXAMPLES


def error_of(response: Any) -> dict[str, Any]:
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["message"]
    return dict(body["error"])


Send = Callable[[FlaskClient, Path], Any]


def as_json(client: FlaskClient, path: Path) -> Any:
    return client.post(API, json={"credential": json.loads(path.read_text(encoding="utf-8"))})


def as_text(client: FlaskClient, path: Path) -> Any:
    return client.post(API, data=path.read_bytes(), content_type="text/plain")


def as_image(client: FlaskClient, path: Path) -> Any:
    mimetype = "image/png" if path.suffix == ".png" else "image/svg+xml"
    return client.post(API, data=path.read_bytes(), content_type=mimetype)


def as_upload(client: FlaskClient, path: Path) -> Any:
    return client.post(API, data={"file": (io.BytesIO(path.read_bytes()), path.name)},
                       content_type="multipart/form-data")


SENDERS: dict[str, list[Send]] = {".json": [as_json, as_upload], ".jwt": [as_text, as_upload],
                                  ".png": [as_image, as_upload], ".svg": [as_image, as_upload]}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_shared_example_gets_its_verdict_in_every_request_form(client: FlaskClient, examples: Path,
                                                                     name: str) -> None:
    verdict, verified = EXPECTED[name]
    for send in SENDERS[Path(name).suffix]:
        response = send(client, examples / name)
        assert response.status_code == 200, (send.__name__, response.get_data(as_text=True))
        body = response.get_json()
        assert (body["verdict"], body["verified"]) == (verdict, verified), send.__name__
        assert [check["id"] for check in body["checks"]] == list(CHECK_IDS)
        assert all({"id", "status", "code", "message"} <= set(check) for check in body["checks"])
        assert body["verdict_title"] and body["verdict_summary"]


def test_the_report_carries_the_summary_fields(client: FlaskClient, examples: Path) -> None:
    body = as_json(client, examples / "ob3-v2-bitstring-revoked.json").get_json()
    status = next(check for check in body["checks"] if check["id"] == "status")
    assert status == {"id": "status", "status": "failed", "code": "revoked", "message": MESSAGES["revoked"]}
    assert body["revoked"] is True and body["format"] == "json" and body["ob_version"] == "3.0"
    for name in ("issuer_id", "issuer_name", "achievement_id", "achievement_name", "valid_from", "valid_until",
                 "credential_id", "expired", "not_yet_valid", "suspended", "endorsements", "notes"):
        assert name in body, name
    assert body["verdict_title"] == "Revoked"


def test_the_credential_itself_may_be_the_body(client: FlaskClient, examples: Path) -> None:
    raw = (examples / "ob3-v2-dual-proof-didkey.json").read_bytes()
    response = client.post(API, data=raw, content_type="application/ld+json")
    assert response.get_json()["verdict"] == "valid"


def test_a_jwt_may_be_given_in_json(client: FlaskClient, examples: Path) -> None:
    token = (examples / "ob3-v2-simple-vcjwt-rs256.jwt").read_text(encoding="utf-8").strip()
    for body in ({"jwt": token}, {"credential": token}):
        response = client.post(API, json=body)
        assert response.status_code == 200
        assert response.get_json()["format"] == "jwt"


def test_a_tampered_credential_is_not_genuine(client: FlaskClient, examples: Path) -> None:
    credential = json.loads((examples / "ob3-v2-dual-proof-didkey.json").read_text(encoding="utf-8"))
    credential["credentialSubject"]["achievement"]["name"] = "Something else"
    body = client.post(API, json=credential).get_json()
    assert (body["verdict"], body["verified"]) == ("not_genuine", False)


def test_known_email_is_checked(client: FlaskClient, signed_for_email: dict[str, Any]) -> None:
    matching = client.post(API, json={"credential": signed_for_email, "known_email": "Learner@example.org"})
    assert matching.get_json()["verdict"] == "valid"
    other = client.post(API, json={"credential": signed_for_email, "known_email": "other@example.org"})
    assert other.get_json()["verdict"] == "recipient_mismatch"
    text = client.post(f"{API}?known_email=other@example.org", data=json.dumps(signed_for_email),
                       content_type="text/plain")
    assert text.get_json()["verdict"] == "recipient_mismatch"
    bad = client.post(API, json={"credential": signed_for_email, "known_email": 42})
    assert bad.status_code == 400 and error_of(bad)["code"] == "invalid_email"


@pytest.fixture
def signed_for_email() -> dict[str, Any]:
    from badgehub.credentials.data_integrity import sign_data_integrity
    from badgehub.credentials.did import did_key_from_ed25519
    from badgehub.credentials.documents import AchievementDefinition, IssuerProfile, Recipient, build_credential
    from badgehub.credentials.keys import ed25519_raw_public_key, generate_ed25519

    key = generate_ed25519()
    did = did_key_from_ed25519(ed25519_raw_public_key(key.public_key()))
    credential = build_credential(
        credential_id="urn:uuid:2f0c7a4e-1b9d-4c55-8f3e-0a1b2c3d4e5f",
        issuer=IssuerProfile(id=did, name="Centre social"),
        achievement=AchievementDefinition(id="https://badges.example.org/achievements/2", name="Bénévolat",
                                          description="Volunteering", criteria_narrative="Ten hours.",
                                          achievement_type="Badge"),
        recipient=Recipient(email="learner@example.org", salt="salt-2"),
        valid_from="2026-01-01T00:00:00Z",
    )
    return sign_data_integrity(credential, key, f"{did}#{did.removeprefix('did:key:')}", "2026-01-01T00:00:00Z")


def test_messages_follow_accept_language(app: Flask, client: FlaskClient, examples: Path) -> None:
    raw = (examples / "ob3-v2-dual-proof-didkey.json").read_bytes()
    body = client.post(API, data=raw, content_type="application/json",
                       headers={"Accept-Language": "fr"}).get_json()
    with app.test_request_context(), force_locale("fr"):
        expected = gettext("The digital signature is valid: the credential has not been changed since it was issued.")
    proof = next(check for check in body["checks"] if check["id"] == "proof")
    assert proof["message"] == expected
    assert body["verdict"] == "valid"  # codes never change with the language


# -- errors: 400, 413, 415, never 500


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        (b"{not json", "application/json", 400, "invalid_json"),
        (b'{"a": ' * 20000 + b"1" + b"}" * 20000, "application/json", 400, "invalid_json"),
        (b"[1, 2]", "application/json", 400, "not_an_object"),
        (b'"just a string"', "application/json", 400, "not_an_object"),
        (b"{}", "application/json", 400, "empty_input"),
        (b'{"unrelated": true}', "application/json", 400, "empty_input"),
        (b'{"credential": 5}', "application/json", 400, "not_an_object"),
        (b'{"credential": {}, "url": "https://x.example/"}', "application/json", 400, "too_many_inputs"),
        (b'{"@context": [], "type": "x", "nan": NaN}', "application/json", 400, "not_an_object"),
        (b'{"jwt": "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJ4.c2ln"}', "application/json", 400, "invalid_jwt"),
        (b'{"jwt": "not a token at all"}', "application/json", 415, "unknown_format"),
        (b"\xff\xfe\x00garbage", "text/plain", 415, "not_utf8"),
        (b"", "text/plain", 400, "empty_input"),
        (b"<xml/>", "application/xml", 415, "unsupported_media_type"),
        (b"a=b", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png", 400, "image_unreadable"),
        (b"GIF89a", "image/png", 415, "unsupported_type"),
        (b'<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg>&x;</svg>', "image/svg+xml", 400,
         "image_unreadable"),
    ],
)
def test_bad_input_gets_a_json_error(client: FlaskClient, data: bytes, content_type: str, status: int,
                                     code: str) -> None:
    response = client.post(API, data=data, content_type=content_type)
    assert response.status_code == status, response.get_data(as_text=True)
    assert error_of(response)["code"] == code
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_a_body_over_the_verification_limit_is_413(app: Flask, client: FlaskClient) -> None:
    app.config["VERIFY_MAX_BYTES"] = 64 * 1024
    response = client.post(API, data=b"x" * (64 * 1024 + 1), content_type="text/plain")
    assert response.status_code == 413
    error = error_of(response)
    assert error["code"] == "too_large" and error["details"] == {"limit": 64 * 1024}
    upload = client.post(API, data={"file": (io.BytesIO(b"{" + b" " * 70000 + b"}"), "big.json")},
                         content_type="multipart/form-data")
    assert upload.status_code == 413


def test_a_body_over_the_upload_limit_is_413_json(client: FlaskClient) -> None:
    response = client.post(API, data=b"x" * (11 * 1024 * 1024), content_type="text/plain")
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"


def test_an_internal_address_is_refused(client: FlaskClient, offline: list[Any]) -> None:
    for address in ("https://169.254.169.254/latest/meta-data/", "https://localhost/x", "https://10.0.0.1/b.json",
                    "http://example.org/b.json"):
        response = client.post(API, json={"url": address})
        assert response.status_code == 400
        error = error_of(response)
        assert error["code"] == "url_refused", address
        assert error["details"]["reason"] in ("address_not_allowed", "scheme_not_allowed")
    assert offline == []


def test_an_unreachable_address_is_400_with_the_reason(client: FlaskClient) -> None:
    response = client.post(API, json={"url": "https://no-such-host.example/badge.json"})
    assert response.status_code == 400
    assert error_of(response) == {
        "code": "url_unreachable", "details": {"reason": "dns_failed"},
        "message": "No badge could be fetched from this address: this site could not be found."}


def test_hostile_json_never_causes_a_500(client: FlaskClient) -> None:
    hostile = [
        {"@context": {"@context": {"@context": "https://evil.example/ctx"}}, "type": ["VerifiableCredential"]},
        {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "OpenBadgeCredential", "proof": [None, 5]},
        {"credential": {"type": ["VerifiableCredential"], "credentialSubject": [[[]]], "issuer": {"id": []}}},
        {"credential": "\ud800"},
        {"credential": {"@context": "x" * 100000, "type": "y"}},
        {"credential": base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()},
    ]
    for body in hostile:
        response = client.post(API, data=json.dumps(body), content_type="application/json")
        assert response.status_code in (200, 400, 415), (body, response.status_code)
        assert response.is_json


# -- CORS, CSRF, rate limit


def test_cors_is_open_and_the_preflight_answers(client: FlaskClient) -> None:
    preflight = client.options(API, headers={"Origin": "https://employer.example",
                                             "Access-Control-Request-Method": "POST",
                                             "Access-Control-Request-Headers": "Content-Type"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]
    response = client.post(API, json={}, headers={"Origin": "https://employer.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_the_api_needs_no_csrf_token_and_no_session(client: FlaskClient, examples: Path) -> None:
    # The app's CSRF protection is on (the page refuses a form without its token); the API is exempt.
    assert client.post("/verify", data={"credential_text": "{}"}).status_code == 400
    response = client.post(API, data=(examples / "ob3-v2-dual-proof-didkey.json").read_bytes(),
                           content_type="application/json")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_the_api_is_rate_limited_with_cors_headers_on_the_429(app: Flask, client: FlaskClient) -> None:
    app.config["RATELIMIT_VERIFY"] = "3 per minute"
    statuses = [client.post(API, json={}).status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]
    blocked = client.post(API, json={})
    assert blocked.status_code == 429
    assert error_of(blocked)["code"] == "rate_limited"
    assert blocked.headers["Access-Control-Allow-Origin"] == "*"
    assert "Retry-After" in blocked.headers
    assert client.options(API).status_code == 200  # preflights are not counted
