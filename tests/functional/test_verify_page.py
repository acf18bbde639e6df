"""/verify: anyone uploads, pastes or gives the address of a badge and reads a verdict in plain words.

The tests never reach the network: the system resolver answers nothing (every remote document is
"unreachable"), connections may only go to loopback servers the test starts itself, and documents the
shared examples need (the bitstring status list) are served by a test resolver plugged into the
platform's hook (``register_local_resolver``).
"""

from __future__ import annotations

import html as html_module
import io
import ipaddress
import json
import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from badgehub.verification import fetch as fetch_module
from badgehub.verification.fetch import SafeFetcher
from badgehub.verification.platform import FETCHER_EXTENSION, register_local_resolver
from badgehub.verification.resolver import StaticResolver
from tests.conftest import csrf_token_from

EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "ob3-examples"
BITSTRING_URL = (
    "https://raw.githubusercontent.com/1EdTech/digital-credentials-public-validator/refs/heads/main/"
    "inspector-vc/src/test/resources/ob30/bit-string-list/testlist"
)

# Expected verdict of each shared example, offline, with the bitstring list served by the test resolver
# (README of shared/ob3-examples). Most sign with a key written in the badge itself, for an https or urn:uuid
# issuer: intact, but nothing ties that key to the issuer.
UNCONFIRMED = "Signature intact, but nothing confirms that this issuer made it"
EXPECTED = {
    "ob3-v2-simple-eddsa-rdfc-2022.json": UNCONFIRMED,
    "ob3-v2-testvector-eddsa-rdfc-2022.json": UNCONFIRMED,
    "ob3-v2-complete-eddsa-rdfc-2022.json": UNCONFIRMED,
    "ob3-v2-didkey-eddsa-rdfc-2022.json": UNCONFIRMED,
    "ob3-v2-dual-proof-didkey.json": "Valid",
    "ob3-v2-simple-vcjwt-rs256.jwt": UNCONFIRMED,
    "ob3-v1-simple-vcjwt-rs256.jwt": UNCONFIRMED,
    "ob3-v1-simple-ed25519signature2020.json": UNCONFIRMED,
    "ob3-v1-1edtech-revocationlist-refresh-didweb.json": "Could not be checked now",
    "ob3-v2-bitstring-revoked.json": "Revoked",
    "bitstring-status-list-credential.json": UNCONFIRMED,
    "endorsement-v2-eddsa-rdfc-2022.json": UNCONFIRMED,
    "baked-ob3-v2-json.png": UNCONFIRMED,
    "baked-ob3-v2-json.svg": UNCONFIRMED,
    "baked-ob3-v2-jwt.png": UNCONFIRMED,
    "baked-ob3-v2-jwt.svg": UNCONFIRMED,
    "baked-ob3-v1-jwt.svg": UNCONFIRMED,
    "NEG-ob3-v2-bad-proofvalue.json": "Not genuine",
    "NEG-ob3-v2-injected-undefined-terms.json": "Not genuine",
}
LOOPBACK = ipaddress.ip_network("127.0.0.1/32")


# No name resolves, and a connection anywhere but to loopback fails the test (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("offline")


@pytest.fixture
def examples() -> Path:
    if not EXAMPLES.is_dir():
        pytest.skip(f"shared example credentials not found at {EXAMPLES}")
    return EXAMPLES


@pytest.fixture
def status_lists(app: Flask, examples: Path) -> None:
    """Serve the examples' bitstring status list through the platform's hook for local documents."""
    status_list = json.loads((examples / "bitstring-status-list-credential.json").read_text(encoding="utf-8"))
    register_local_resolver(app, lambda: StaticResolver({BITSTRING_URL: status_list}))


@pytest.fixture
def local_server() -> Iterator[Callable[[bytes, str], str]]:
    """Serve ``body`` at ``/<name>`` from 127.0.0.1; returns the address."""
    documents: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = documents.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def publish(body: bytes, name: str) -> str:
        documents[f"/{name}"] = body
        return f"http://127.0.0.1:{server.server_port}/{name}"

    yield publish
    server.shutdown()
    thread.join(5)
    server.server_close()


def token(client: FlaskClient) -> str:
    return csrf_token_from(client.get("/verify").get_data(as_text=True))


def submit(client: FlaskClient, **fields: Any) -> Any:
    data = {"csrf_token": token(client), **fields}
    return client.post("/verify", data=data, content_type="multipart/form-data")


def upload(client: FlaskClient, content: bytes, name: str = "badge.json", **fields: Any) -> Any:
    return submit(client, credential_file=(io.BytesIO(content), name), **fields)


def verdict_title(html: str) -> str:
    match = re.search(r'<h1 id="verdict-title" class="verdict-title">(.*?)</h1>', html, re.S)
    assert match, "no verdict on the page"
    return re.sub(r"<[^>]+>|[✓✗!?]", "", match.group(1)).strip()


def problem(html: str) -> str:
    match = re.search(r'<div class="error-summary" role="alert"[^>]*>\s*<p>(.*?)</p>', html, re.S)
    assert match, "no problem shown"
    return match.group(1).strip()


# -- the form


def test_the_form_offers_a_file_an_address_a_text_and_an_e_mail(client: FlaskClient) -> None:
    response = client.get("/verify")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for name in ("credential_file", "credential_url", "credential_text", "email", "csrf_token"):
        assert f'name="{name}"' in html, name
    assert 'enctype="multipart/form-data"' in html
    # The scanner is an enhancement: hidden until the script shows it; scripts come from our origin only.
    assert re.search(r'<div class="scanner" id="scanner" hidden', html)
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts and all('src="/static/' in attributes for attributes in scripts)
    assert "<script>" not in html


def test_the_vendored_qr_library_and_the_scanner_are_served_from_our_origin(client: FlaskClient) -> None:
    for path in ("/static/vendor/jsqr/jsQR.js", "/static/js/verify-scan.js"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "javascript" in response.content_type
        response.close()


# -- every shared example


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_shared_example_uploaded_gets_its_verdict(client: FlaskClient, examples: Path, status_lists: None,
                                                        name: str) -> None:
    response = upload(client, (examples / name).read_bytes(), name)
    assert response.status_code == 200
    assert verdict_title(response.get_data(as_text=True)) == EXPECTED[name]


def test_every_shared_example_file_has_an_expected_verdict(examples: Path) -> None:
    files = {p.name for p in examples.iterdir()
             if p.suffix in (".json", ".jwt", ".png", ".svg") and p.name != "ob3-v2-testvector-key.json"}
    assert files == set(EXPECTED)


def test_the_revoked_example_is_only_known_revoked_when_its_list_can_be_read(client: FlaskClient,
                                                                             examples: Path) -> None:
    # Without the test resolver the list is unreachable: the page must not claim either way.
    response = upload(client, (examples / "ob3-v2-bitstring-revoked.json").read_bytes())
    html = response.get_data(as_text=True)
    assert verdict_title(html) == UNCONFIRMED
    assert "revocation list could not be fetched" in html


def test_a_pasted_jwt_is_checked(client: FlaskClient, examples: Path) -> None:
    text = (examples / "ob3-v2-simple-vcjwt-rs256.jwt").read_text(encoding="utf-8")
    response = submit(client, credential_text=text)
    assert response.status_code == 200
    assert verdict_title(response.get_data(as_text=True)) == UNCONFIRMED


def test_a_tampered_credential_is_not_genuine(client: FlaskClient, examples: Path) -> None:
    credential = json.loads((examples / "ob3-v2-simple-eddsa-rdfc-2022.json").read_text(encoding="utf-8"))
    credential["name"] = credential.get("name", "") + " (edited)"
    response = submit(client, credential_text=json.dumps(credential))
    html = response.get_data(as_text=True)
    assert verdict_title(html) == "Not genuine"
    assert "verdict verdict-bad" in html
    # What a forged badge says about itself is not presented as fact.
    assert "The badge could not be confirmed: what follows is only what it says about itself." in html
    assert "Who it says issued it" in html and "Who issued it<" not in html


# -- the report page


def test_the_report_says_who_what_when_and_every_step(client: FlaskClient, examples: Path) -> None:
    response = upload(client, (examples / "ob3-v2-complete-eddsa-rdfc-2022.json").read_bytes())
    html = response.get_data(as_text=True)
    credential = json.loads((examples / "ob3-v2-complete-eddsa-rdfc-2022.json").read_text(encoding="utf-8"))
    achievement = credential["credentialSubject"]["achievement"]
    # Its key is only written in the badge: the issuer is what the badge says, not a fact.
    for heading in ("Who it says issued it", "What it says it is", "Dates", "Every step of the check",
                    "Endorsements"):
        assert heading in html, heading
    assert achievement["name"] in html
    # The verdict comes before everything else, then one <details> per step, each with words and a status.
    assert html.index("verdict-title") < html.index("Who it says issued it") < html.index("Every step of the check")
    assert "only what it says about itself" in html
    steps = re.findall(r'<details class="step step-(\w+)">\s*<summary>(.*?)</summary>', html, re.S)
    assert len(steps) == 11
    summaries = [" ".join(re.sub(r"<[^>]+>", " ", summary).split()) for _, summary in steps]
    assert summaries[0] == "✓ Reading the badge Passed"
    assert "Issuer's key Warning" in html_module.unescape(summaries[6])
    assert "Check another badge" in html


def test_hostile_text_in_a_credential_is_shown_as_text(client: FlaskClient) -> None:
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "id": "urn:uuid:00000000-0000-4000-8000-000000000000",
        "name": "<script>alert('name')</script>",
        "issuer": {"id": "https://issuer.example/1", "type": ["Profile"], "name": "<img src=x onerror=alert(1)>",
                   "url": "javascript:alert(1)"},
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"type": ["AchievementSubject"], "id": "did:example:1", "achievement": {
            "id": "https://issuer.example/a", "type": ["Achievement"], "name": "<b>bold</b>",
            "description": "d", "criteria": {"narrative": "n", "id": "javascript:alert(2)"}}},
    }
    response = submit(client, credential_text=json.dumps(credential))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert verdict_title(html) == "Not valid" or verdict_title(html) == "Could not be checked"
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>bold</b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "javascript:" not in html


# -- the recipient's e-mail


def test_the_e_mail_check_reports_a_match_and_a_mismatch(client: FlaskClient, signed_for_email: str) -> None:
    matching = submit(client, credential_text=signed_for_email, email="  learner@EXAMPLE.org ")
    html = matching.get_data(as_text=True)
    assert verdict_title(html) == "Valid"
    assert "The credential was issued to the given e-mail address." in html
    assert "E-mail address checked: learner@EXAMPLE.org" in html
    other = submit(client, credential_text=signed_for_email, email="someone.else@example.org")
    assert verdict_title(other.get_data(as_text=True)) == "Not issued to this person"


def test_an_e_mail_that_is_not_an_address_is_refused_on_its_field(client: FlaskClient,
                                                                   signed_for_email: str) -> None:
    response = submit(client, credential_text=signed_for_email, email="not an address")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="email-error"' in html and "This is not an e-mail address." in html


@pytest.fixture
def signed_for_email() -> str:
    """A did:key credential, signed, issued to learner@example.org (hashed, salted), valid from 2026-01-01."""
    from badgehub.credentials.data_integrity import sign_data_integrity
    from badgehub.credentials.did import did_key_from_ed25519
    from badgehub.credentials.documents import AchievementDefinition, IssuerProfile, Recipient, build_credential
    from badgehub.credentials.keys import ed25519_raw_public_key, generate_ed25519

    key = generate_ed25519()
    did = did_key_from_ed25519(ed25519_raw_public_key(key.public_key()))
    credential = build_credential(
        credential_id="urn:uuid:9b1c3f1e-4a57-4d0e-9a4e-6f1a2b3c4d5e",
        issuer=IssuerProfile(id=did, name="Médiathèque"),
        achievement=AchievementDefinition(id="https://badges.example.org/achievements/1", name="Atelier numérique",
                                          description="Digital workshop", criteria_narrative="Three sessions.",
                                          achievement_type="Badge"),
        recipient=Recipient(email="learner@example.org", salt="pepper"),
        valid_from="2026-01-01T00:00:00Z",
    )
    signed = sign_data_integrity(credential, key, f"{did}#{did.removeprefix('did:key:')}", "2026-01-01T00:00:00Z")
    return json.dumps(signed)


# -- what cannot be read


def test_nothing_given_asks_for_a_badge(client: FlaskClient) -> None:
    response = submit(client)
    assert response.status_code == 400
    assert problem(response.get_data(as_text=True)).startswith("Give a badge to check")


def test_two_inputs_at_once_are_refused(client: FlaskClient) -> None:
    response = upload(client, b"{}", credential_text="{}")
    assert response.status_code == 400
    assert "one badge at a time" in problem(response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("content", "name", "status", "message"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "badge.pdf", 415, "This file cannot hold a badge."),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "photo.jpg", 415, "This file cannot hold a badge."),
        (bytes(range(256)) * 4, "random.bin", 415, "This file cannot hold a badge."),
        (b'{"@context": ["https://www.w3.org/ns/credentials/v2", "https://purl', "cut.json", 400, "damaged"),
        (b"eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJ4.c2ln", "cut.jwt", 400, "signed token (JWT) is damaged"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "cut.png", 400, "image is damaged or unsafe"),
        (b"[1, 2, 3]", "list.json", 415, "This file cannot hold a badge."),
        (b'{"a": ' * 5000 + b"1" + b"}" * 5000, "deep.json", 400, "damaged"),
        (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
         b"<svg xmlns='http://www.w3.org/2000/svg'>&xxe;</svg>", "xxe.svg", 400, "image is damaged or unsafe"),
        (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
         b"<svg xmlns='http://www.w3.org/2000/svg'>&lol2;</svg>", "lol.svg", 400, "image is damaged or unsafe"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><circle r='4'/></svg>", "plain.svg", 400,
         "The image does not contain a badge."),
    ],
)
def test_garbage_truncated_and_hostile_files_get_a_clear_message(client: FlaskClient, content: bytes, name: str,
                                                                 status: int, message: str) -> None:
    response = upload(client, content, name)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert message in problem(html)
    assert 'name="credential_file"' in html  # back on the form


def test_a_png_without_a_badge_says_so(client: FlaskClient) -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 10, 10)).save(buffer, format="PNG")
    response = upload(client, buffer.getvalue(), "photo.png")
    assert response.status_code == 400
    assert problem(response.get_data(as_text=True)) == "The image does not contain a badge."


def test_a_file_over_the_limit_is_refused_with_413(app: Flask, client: FlaskClient) -> None:
    limit = app.config.get("VERIFY_MAX_BYTES", 5 * 1024 * 1024)
    response = upload(client, b"{" + b" " * limit + b"}", "huge.json")
    assert response.status_code == 413
    assert "too large to be a badge: at most 5 MB" in problem(response.get_data(as_text=True))


def test_a_request_over_the_upload_limit_gets_the_413_page(client: FlaskClient) -> None:
    response = upload(client, b"x" * (11 * 1024 * 1024), "enormous.json")
    assert response.status_code == 413
    assert "What you sent is too large." in response.get_data(as_text=True)


# -- addresses


@pytest.mark.parametrize(
    "address",
    ["https://127.0.0.1/c/1", "https://localhost/c/1", "https://[::1]/c/1", "https://169.254.169.254/latest/meta-data/",
     "https://10.0.0.1/badge.json", "https://192.168.1.10/badge.json", "https://[fd00::1]/x"],
)
def test_an_internal_address_is_refused_with_a_clear_message(client: FlaskClient, offline: list[Any],
                                                              address: str) -> None:
    response = submit(client, credential_url=address)
    assert response.status_code == 400
    assert problem(response.get_data(as_text=True)) == (
        "This address cannot be checked: it leads to a private or local network, which is never contacted.")
    assert offline == []


def test_a_host_name_resolving_to_a_private_address_is_refused(client: FlaskClient, offline: list[Any],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch_module, "resolve_addresses", lambda host, port: [ipaddress.ip_address("10.20.30.40")])
    response = submit(client, credential_url="https://intranet.example.org/badge.json")
    assert response.status_code == 400
    assert "private or local network" in problem(response.get_data(as_text=True))
    assert offline == []


def test_plain_http_addresses_are_refused(client: FlaskClient) -> None:
    response = submit(client, credential_url="http://badges.example.org/c/1")
    assert response.status_code == 400
    assert "only secure addresses (starting with https://) are fetched." in problem(response.get_data(as_text=True))


def test_an_address_that_cannot_be_found_says_so(client: FlaskClient) -> None:
    response = submit(client, credential_url="https://no-such-site.example/badge.json")
    assert response.status_code == 400
    assert problem(response.get_data(as_text=True)) == (
        "No badge could be fetched from this address: this site could not be found.")


def test_a_badge_published_at_an_address_is_fetched_and_checked(app: Flask, client: FlaskClient, examples: Path,
                                                                local_server: Callable[[bytes, str], str]) -> None:
    # The test's own server is on 127.0.0.1: this app's fetcher is given the test-only allowance.
    app.extensions[FETCHER_EXTENSION] = SafeFetcher(allow_http=True, allowed_networks=[LOOPBACK], timeout=3)
    address = local_server((examples / "ob3-v2-dual-proof-didkey.json").read_bytes(), "badge.json")
    response = submit(client, credential_url=address)
    assert response.status_code == 200
    assert verdict_title(response.get_data(as_text=True)) == "Valid"
    missing = submit(client, credential_url=address.replace("badge.json", "missing.json"))
    assert missing.status_code == 400
    assert "the site answered with an error (HTTP 404)" in problem(missing.get_data(as_text=True))


def test_an_address_pasted_as_text_is_followed_like_an_address(client: FlaskClient) -> None:
    response = submit(client, credential_text="  https://169.254.169.254/latest/meta-data/  ")
    assert response.status_code == 400
    assert "private or local network" in problem(response.get_data(as_text=True))


# -- protections


def test_the_form_needs_its_csrf_token(client: FlaskClient) -> None:
    response = client.post("/verify", data={"credential_text": "{}"}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "csrf_failed" in response.get_data(as_text=True)


def test_verification_is_rate_limited_per_client_address(app: Flask, client: FlaskClient) -> None:
    app.config["RATELIMIT_VERIFY"] = "2 per minute"
    csrf = token(client)
    statuses = [client.post("/verify", data={"csrf_token": csrf, "credential_text": "{}"},
                            content_type="multipart/form-data").status_code for _ in range(3)]
    assert statuses[:2] != [429, 429] and statuses[2] == 429
    # The API shares the budget; another address does not.
    assert client.post("/api/v1/verify", json={"jwt": "a.b.c"}).status_code == 429
    elsewhere = client.post("/verify", data={"csrf_token": csrf, "credential_text": "{}"},
                            content_type="multipart/form-data", environ_base={"REMOTE_ADDR": "192.0.2.8"})
    assert elsewhere.status_code != 429
    assert client.get("/verify").status_code == 200  # reading the form is not limited


# -- our own issuers: answered from the database, never over HTTP


def test_a_credential_of_one_of_our_issuers_is_verified_without_any_request(app: Flask, client: FlaskClient,
                                                                             offline: list[Any]) -> None:
    from badgehub.credentials.data_integrity import sign_data_integrity
    from badgehub.credentials.documents import AchievementDefinition, Recipient, build_credential
    from badgehub.extensions import db
    from badgehub.keys.identity import issuer_profile, signing_identity
    from badgehub.keys.service import create_organisation_keys, installation_kek, load_private_key
    from badgehub.organisations.models import Organisation, OrganisationType, Sector

    with app.test_request_context():
        organisation = Organisation(slug="atelier-velo", name="Atelier Vélo", type=OrganisationType.ASSOCIATION,
                                    sector=Sector.COMMUNITY)
        db.session.add(organisation)
        db.session.flush()
        kek = installation_kek(app.config)
        create_organisation_keys(organisation, kek)
        identity = signing_identity(organisation, app.config)
        credential = build_credential(
            credential_id="urn:uuid:7d2f0c1e-5b6a-4c3d-9e8f-1a2b3c4d5e6f",
            issuer=issuer_profile(organisation, identity.issuer_id),
            achievement=AchievementDefinition(id="http://localhost/achievements/a1", name="Réparer son vélo",
                                              description="Une roue démontée et remontée.",
                                              criteria_narrative="Atelier de 3 heures.", achievement_type="Badge"),
            recipient=Recipient(email="lea@example.org", salt="s4lt"),
            valid_from="2026-01-01T00:00:00Z",
        )
        signed = sign_data_integrity(credential, load_private_key(identity.ed25519_key, kek),
                                     identity.verification_method_id, "2026-01-01T00:00:00Z")
        db.session.commit()
    assert signed["issuer"]["id"].startswith("did:web:localhost:issuers:")
    response = submit(client, credential_text=json.dumps(signed))
    html = response.get_data(as_text=True)
    assert verdict_title(html) == "Valid"
    assert "The signing key belongs to the issuer." in html
    assert offline == []  # the DID document came from the database, not from http://localhost


def test_our_own_http_address_of_a_badge_is_checked_from_the_database(app: Flask, client: FlaskClient,
                                                                      offline: list[Any], setup: Any) -> None:
    # Issue 16: the demo runs on an http:// BASE_URL, and pasting the QR code's address (as the help suggests)
    # was refused as "only secure addresses"; our own addresses are read from the database, never fetched.
    from tests.factories import build_world
    from tests.functional.test_issuing_web import issue_directly

    world = setup(lambda: build_world().ids())
    public_id = issue_directly(setup, world, email="lea@example.net")
    assert app.config["BASE_URL"] == "http://localhost"
    for address in (f"http://localhost/c/{public_id}", f"http://localhost/c/{public_id}.json"):
        response = submit(client, credential_url=address)
        assert response.status_code == 200, problem(response.get_data(as_text=True))
        assert verdict_title(response.get_data(as_text=True)) == "Valid"
    pasted = submit(client, credential_text=f"  http://localhost/c/{public_id}\n", email="lea@example.net")
    assert verdict_title(pasted.get_data(as_text=True)) == "Valid"
    assert "The credential was issued to the given e-mail address." in pasted.get_data(as_text=True)
    unknown = submit(client, credential_url="http://localhost/c/nosuchbadge")
    assert unknown.status_code == 400
    assert "HTTP 404" in problem(unknown.get_data(as_text=True))
    # Other addresses of ours are not credentials, and others' internal addresses stay refused.
    for refused in ("http://localhost/organisations", "http://127.0.0.1/c/" + public_id,
                    f"https://localhost/c/{public_id}"):
        assert submit(client, credential_url=refused).status_code == 400, refused
    assert offline == []
