"""The public identity documents of issuers, over HTTP: /issuers/<slug> (HTML or JSON-LD), its did.json,
its JWK sets, and /.well-known/jwks.json — and credentials that verify with nothing but those documents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient

from badgehub.accounts.service import create_user
from badgehub.credentials.canonical import check_safe_mode
from badgehub.credentials.did import did_web_to_url
from badgehub.credentials.documents import profile_object
from badgehub.keys.identity import issuer_profile, signing_identity
from badgehub.keys.models import KeyAlgorithm
from badgehub.keys.service import declare_compromised, published_keys, rotate_keys
from badgehub.organisations.service import ProfileFields, create_organisation, get_organisation_by_slug
from badgehub.verification.checks.structure import structure_problems
from badgehub.verification.pipeline import verify
from badgehub.verification.platform import build_resolver
from badgehub.verification.report import CheckStatus
from badgehub.verification.resolver import LocalResolver, StaticResolver
from badgehub.web.caching import PUBLIC_DOCUMENT
from tests.conftest import TEST_KEK
from tests.unit.keys.test_identity_resolver import checks, make_credential, now, outcome, sign_di, sign_jwt

KEK = bytes.fromhex(TEST_KEK)
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}
P, F, W = CheckStatus.PASSED, CheckStatus.FAILED, CheckStatus.WARNING
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
LD = {"Accept": "application/ld+json"}


def members(document: Any) -> set[str]:
    found: set[str] = set()
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.update(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


@pytest.fixture
def make_issuer(setup: Callable[[Callable[[], Any]], Any]) -> Callable[..., str]:
    """Create an organisation (with its keys, as every organisation gets them) and return its slug."""
    counter = iter(range(100))

    def make(name: str = "Atelier Vélo", **profile: Any) -> str:
        def build() -> str:
            owner = create_user(f"owner{next(counter)}@example.org", verified=True)
            fields = {"name": name, "type": "association", "sector": "community",
                      "description": "Réparations le samedi.", "url": "https://velo.example.org/",
                      "email": "contact@velo.example.org", "locality": "Évry", "country_code": "FR", **profile}
            return create_organisation(owner, ProfileFields(**fields), config=current_app.config).slug

        return str(setup(build))

    return make


@pytest.fixture
def in_app(app: Flask) -> Callable[[Callable[[], Any]], Any]:
    """Run ``work`` inside a request context of the app and commit (signing, rotating, verifying)."""
    from badgehub.extensions import db

    def run(work: Callable[[], Any]) -> Any:
        with app.test_request_context():
            result = work()
            db.session.commit()
            return result

    return run


def published_resolver(client: FlaskClient, slug: str) -> StaticResolver:
    """A resolver that knows nothing but what the issuer publishes, fetched over HTTP (the test client),
    filed under the addresses a did:web resolver and a JWKS client would fetch."""
    did_json = client.get(f"/issuers/{slug}/did.json")
    assert did_json.status_code == 200
    document = did_json.get_json()
    return StaticResolver({
        did_web_to_url(document["id"]): document,
        f"https://localhost/issuers/{slug}/jwks.json": client.get(f"/issuers/{slug}/jwks.json").get_json(),
        "https://localhost/.well-known/jwks.json": client.get("/.well-known/jwks.json").get_json(),
    })


def issue(in_app: Callable[..., Any], app: Flask, slug: str, *, issued: dt.datetime | None = None,
          created: dt.datetime | None = None) -> tuple[dict[str, Any], str]:
    """A Data Integrity credential and a VC-JWT signed with the organisation's active keys."""
    moment = issued or now() - dt.timedelta(minutes=5)

    def work() -> tuple[dict[str, Any], str]:
        organisation = get_organisation_by_slug(slug)
        identity = signing_identity(organisation, app.config)
        credential = make_credential(organisation, identity, moment)
        return sign_di(credential, identity, KEK, created or moment), sign_jwt(credential, identity, KEK)

    result: tuple[dict[str, Any], str] = in_app(work)
    return result


def document_urls(slug: str, rsa_key_id: str) -> list[str]:
    return [f"/issuers/{slug}/did.json", f"/issuers/{slug}/jwks.json", f"/issuers/{slug}/keys/{rsa_key_id}.json",
            "/.well-known/jwks.json"]


def rsa_key_id(in_app: Callable[..., Any], slug: str) -> str:
    return str(in_app(lambda: next(k.key_id for k in published_keys(get_organisation_by_slug(slug))
                                   if k.algorithm is KeyAlgorithm.RSA_2048)))


# ----------------------------------------------------------------------------------------- the documents


def test_did_document_is_served_where_the_did_web_resolves(client, make_issuer):
    slug = make_issuer()
    response = client.get(f"/issuers/{slug}/did.json")
    assert response.status_code == 200
    assert response.mimetype == "application/did+ld+json"
    document = response.get_json()
    assert document["id"] == f"did:web:localhost:issuers:{slug}"
    assert did_web_to_url(document["id"]) == f"https://localhost/issuers/{slug}/did.json"
    assert [m["type"] for m in document["verificationMethod"]] == ["Multikey", "JsonWebKey"]
    assert document["assertionMethod"] == [m["id"] for m in document["verificationMethod"]]
    assert all(m["id"].startswith(document["id"] + "#key-") for m in document["verificationMethod"])
    assert all(m["controller"] == document["id"] for m in document["verificationMethod"])


def test_jwk_sets_list_the_vc_jwt_keys_with_their_issuer(client, make_issuer):
    slug = make_issuer()
    response = client.get(f"/issuers/{slug}/jwks.json")
    assert response.status_code == 200 and response.mimetype == "application/jwk-set+json"
    (jwk,) = response.get_json()["keys"]
    assert jwk["kty"] == "RSA" and jwk["alg"] == "RS256" and jwk["use"] == "sig"
    # The kid is the one of the tokens' headers: the DID URL of the key.
    did, _, key_id = jwk["kid"].partition("#")
    assert jwk["iss"] == did == f"did:web:localhost:issuers:{slug}" and key_id.startswith("key-")
    single = client.get(f"/issuers/{slug}/keys/{key_id}.json")
    assert single.status_code == 200 and single.mimetype == "application/jwk+json"
    assert single.get_json() == jwk
    assert jwk in client.get("/.well-known/jwks.json").get_json()["keys"]


def test_no_document_holds_a_private_key_member(client, make_issuer, in_app):
    slug = make_issuer()
    for url in [*document_urls(slug, rsa_key_id(in_app, slug)), f"/issuers/{slug}"]:
        response = client.get(url, headers=LD)
        assert response.status_code == 200, url
        assert members(response.get_json()) & PRIVATE_MEMBERS == set(), url


def test_an_organisation_never_publishes_another_ones_keys(client, make_issuer, in_app):
    first, second = make_issuer("Premier"), make_issuer("Second")
    second_keys = in_app(lambda: [(k.key_id, k.public_key) for k in published_keys(get_organisation_by_slug(second))])
    for url in [f"/issuers/{first}/did.json", f"/issuers/{first}/jwks.json", f"/issuers/{first}"]:
        body = client.get(url, headers=LD).get_data(as_text=True)
        for key_id, public_key in second_keys:
            assert key_id not in body and public_key not in body, url
    foreign_rsa = rsa_key_id(in_app, second)
    assert client.get(f"/issuers/{first}/keys/{foreign_rsa}.json").status_code == 404
    issuers = {jwk["kid"].partition("#")[2]: jwk["iss"]
               for jwk in client.get("/.well-known/jwks.json").get_json()["keys"]}
    assert issuers[foreign_rsa] == f"did:web:localhost:issuers:{second}"
    assert issuers[rsa_key_id(in_app, first)] == f"did:web:localhost:issuers:{first}"


@pytest.mark.parametrize("path", ["did.json", "jwks.json", "keys/key-aaaaaaaa.json"])
def test_unknown_issuer_documents_are_json_404(client, path):
    response = client.get(f"/issuers/nobody/{path}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_unknown_key_of_a_known_issuer_is_a_json_404(client, make_issuer):
    slug = make_issuer()
    response = client.get(f"/issuers/{slug}/keys/key-aaaaaaaa.json")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(("accept", "mimetype"), [
    ("application/ld+json", "application/json"), ("application/json", "application/json"),
    (BROWSER_ACCEPT, "text/html"), ("*/*", "text/html"),
])
def test_unknown_issuer_profile_is_a_404_in_the_form_asked_for(client, accept, mimetype):
    response = client.get("/issuers/nobody", headers={"Accept": accept})
    assert response.status_code == 404 and response.mimetype == mimetype


# ----------------------------------------------------------------------------------- the issuer profile


@pytest.mark.parametrize(("accept", "mimetype"), [
    ("application/ld+json", "application/ld+json"),
    ("application/json", "application/json"),
    ("application/ld+json;q=0.9, text/html;q=0.5", "application/ld+json"),
    (BROWSER_ACCEPT, "text/html"),
    ("*/*", "text/html"),
    (None, "text/html"),
])
def test_profile_is_html_or_json_ld_by_content_negotiation(client, make_issuer, accept, mimetype):
    slug = make_issuer()
    response = client.get(f"/issuers/{slug}", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert "Accept" in response.headers.get("Vary", "")


@pytest.mark.parametrize("accept", ["application/did+ld+json", "application/did+json"])
def test_profile_address_serves_the_did_document_to_whoever_asks_for_one(client, make_issuer, accept):
    slug = make_issuer()
    response = client.get(f"/issuers/{slug}", headers={"Accept": accept})
    assert response.status_code == 200 and response.mimetype == accept
    assert response.get_json() == client.get(f"/issuers/{slug}/did.json").get_json()


def test_profile_json_ld_is_the_issuer_profile_credentials_embed(client, make_issuer, in_app, app):
    slug = make_issuer(phone="+33 1 60 00 00 00", street_address="1 place des Tilleuls", postal_code="91000",
                       image_url="https://velo.example.org/logo.png", description="Ligne 1\r\nLigne 2")
    served = client.get(f"/issuers/{slug}", headers=LD).get_json()
    assert served["id"] == f"did:web:localhost:issuers:{slug}" and served["type"] == ["Profile"]
    assert served["url"] == "https://velo.example.org/" and served["email"] == "contact@velo.example.org"
    assert served["phone"] == "+33 1 60 00 00 00" and served["description"] == "Ligne 1\nLigne 2"
    assert served["image"] == {"id": "https://velo.example.org/logo.png", "type": "Image"}
    assert served["address"]["streetAddress"] == "1 place des Tilleuls"
    check_safe_mode(served)  # every term is defined by its contexts
    embedded = in_app(lambda: profile_object(issuer_profile(
        get_organisation_by_slug(slug), signing_identity(get_organisation_by_slug(slug), app.config).issuer_id)))
    assert {k: v for k, v in served.items() if k != "@context"} == embedded
    # The profile, dropped into a credential, is a valid issuer for the pipeline's structure check …
    credential, _token = issue(in_app, app, slug)
    assert structure_problems({**credential, "issuer": embedded}, endorsement=False, vc_version="2.0") == []
    # … and the credential built with it verifies (structure and official schema included).
    report = verify(credential, published_resolver(client, slug), now())
    assert outcome(report, "structure") == (P, "structure_ok") and outcome(report, "schema") == (P, "schema_ok")


# ------------------------------------------------------------------------------- caching and CORS


def test_documents_have_strong_etags_and_answer_304(client, make_issuer, in_app):
    slug = make_issuer()
    for url in [*document_urls(slug, rsa_key_id(in_app, slug)), f"/issuers/{slug}"]:
        first = client.get(url, headers=LD)
        etag = first.headers["ETag"]
        assert etag.startswith('"') and not etag.startswith("W/"), url
        assert client.get(url, headers=LD).headers["ETag"] == etag, url
        for condition in (etag, f"W/{etag}", f'"other", {etag}', "*"):
            again = client.get(url, headers={**LD, "If-None-Match": condition})
            assert again.status_code == 304, (url, condition)
            assert again.get_data() == b"" and again.headers["ETag"] == etag
        assert client.get(url, headers={**LD, "If-None-Match": '"other"'}).status_code == 200


def test_a_rotation_changes_the_etags(client, make_issuer, in_app, app):
    slug = make_issuer()
    before = {url: client.get(url).headers["ETag"] for url in (f"/issuers/{slug}/did.json", "/.well-known/jwks.json")}
    in_app(lambda: rotate_keys(get_organisation_by_slug(slug), KEK, None))
    for url, etag in before.items():
        response = client.get(url, headers={"If-None-Match": etag})
        assert response.status_code == 200 and response.headers["ETag"] != etag, url


def test_documents_are_public_cacheable_and_readable_from_any_origin(client, make_issuer, in_app):
    slug = make_issuer()
    for url in [*document_urls(slug, rsa_key_id(in_app, slug)), f"/issuers/{slug}"]:
        response = client.get(url, headers={**LD, "Origin": "https://wallet.example"})
        assert response.headers["Access-Control-Allow-Origin"] == "*", url
        assert response.headers["Cache-Control"] == PUBLIC_DOCUMENT, url


def test_cross_origin_preflight_is_allowed_for_the_documents(client, make_issuer):
    slug = make_issuer()
    for url in (f"/issuers/{slug}", f"/issuers/{slug}/did.json", "/.well-known/jwks.json"):
        response = client.options(url, headers={"Origin": "https://wallet.example",
                                                "Access-Control-Request-Method": "GET",
                                                "Access-Control-Request-Headers": "if-none-match"})
        assert response.status_code == 200, url
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "If-None-Match" in response.headers["Access-Control-Allow-Headers"]
        assert "GET" in response.headers["Access-Control-Allow-Methods"]


def test_the_html_page_is_not_publicly_cached(client, make_issuer):
    slug = make_issuer()
    response = client.get(f"/issuers/{slug}", headers={"Accept": BROWSER_ACCEPT})
    assert "public" not in response.headers.get("Cache-Control", "")
    assert "Access-Control-Allow-Origin" not in response.headers


# --------------------------------------------------------------------------- verifying with the documents


def test_credentials_verify_with_nothing_but_the_published_documents(client, make_issuer, in_app, app):
    slug = make_issuer()
    signed, token = issue(in_app, app, slug)
    resolver = published_resolver(client, slug)
    for document in (signed, token):
        report = verify(document, resolver, now())
        assert report.verified, checks(report)
        assert outcome(report, "proof") == (P, "proof_ok")
        assert outcome(report, "issuer_key") == (P, "issuer_key_ok")


def test_the_platform_verifies_its_own_credentials_from_the_database(make_issuer, in_app, app):
    slug = make_issuer()
    signed, token = issue(in_app, app, slug)
    # did:web:localhost is only reachable through the local resolver: the platform's fetcher refuses
    # loopback addresses, so a verdict here was reached without HTTP.
    for document in (signed, token):
        report = in_app(lambda document=document: verify(document, build_resolver(app), now()))
        assert report.verified, checks(report)
        assert outcome(report, "issuer_key") == (P, "issuer_key_ok")
        # Without the local resolver, the same chain has no way to the keys.
        report = in_app(lambda document=document: verify(
            document, build_resolver(app, local_documents=LocalResolver()), now()))
        assert outcome(report, "proof") == (F, "key_unresolved"), checks(report)


def test_rotation_keeps_old_credentials_valid_and_new_ones_use_the_new_key(client, make_issuer, in_app, app):
    slug = make_issuer()
    old_signed, old_token = issue(in_app, app, slug, issued=now() - dt.timedelta(hours=2))
    old_method = old_signed["proof"][0]["verificationMethod"]
    in_app(lambda: rotate_keys(get_organisation_by_slug(slug), KEK, None))
    new_signed, new_token = issue(in_app, app, slug)
    assert new_signed["proof"][0]["verificationMethod"] != old_method
    document = client.get(f"/issuers/{slug}/did.json").get_json()
    assert old_method in document["assertionMethod"] and len(document["assertionMethod"]) == 4
    resolver = published_resolver(client, slug)
    for credential in (old_signed, old_token, new_signed, new_token):
        report = verify(credential, resolver, now())
        assert report.verified and outcome(report, "proof") == (P, "proof_ok"), checks(report)


def test_a_compromised_key_invalidates_what_it_signed_after_its_date_only(client, make_issuer, in_app, app):
    slug = make_issuer()
    since = now() - dt.timedelta(hours=1)
    honest_signed, honest_token = issue(in_app, app, slug, issued=since - dt.timedelta(hours=1))
    forged_signed, forged_token = issue(in_app, app, slug, issued=since + dt.timedelta(minutes=10))

    def compromise() -> None:
        organisation = get_organisation_by_slug(slug)
        for key in published_keys(organisation):
            declare_compromised(key, since, None, "laptop stolen")
        rotate_keys(organisation, KEK, None)

    in_app(compromise)
    document = client.get(f"/issuers/{slug}/did.json").get_json()
    revoked = [m for m in document["verificationMethod"] if "revoked" in m]
    assert len(revoked) == 2 and all(m["id"] in document["assertionMethod"] for m in revoked)
    assert all(dt.datetime.fromisoformat(m["revoked"]) == since for m in revoked)
    assert sum("revoked" in jwk for jwk in client.get(f"/issuers/{slug}/jwks.json").get_json()["keys"]) == 1
    for resolver in (published_resolver(client, slug), None):
        for credential, expected in ((honest_signed, (True, W, "signed_before_compromise")),
                                     (honest_token, (True, W, "signed_before_compromise")),
                                     (forged_signed, (False, F, "key_compromised")),
                                     (forged_token, (False, F, "key_compromised"))):
            report = in_app(lambda c=credential, r=resolver: verify(c, r or build_resolver(app), now()))
            assert (report.verified, *outcome(report, "proof")) == expected, checks(report)


# ------------------------------------------------------------------------------------- the HTML page


def test_the_page_shows_the_issuer_id_the_documents_and_the_key_states(client, make_issuer, in_app):
    slug = make_issuer()

    def history() -> None:
        organisation = get_organisation_by_slug(slug)
        rotate_keys(organisation, KEK, None, algorithms=[KeyAlgorithm.RSA_2048])
        ed25519 = next(k for k in published_keys(organisation) if k.algorithm is KeyAlgorithm.ED25519)
        declare_compromised(ed25519, now() - dt.timedelta(days=1), None, "seed leaked")

    in_app(history)
    html = client.get(f"/issuers/{slug}", headers={"Accept": BROWSER_ACCEPT}).get_data(as_text=True)
    for text in (f"did:web:localhost:issuers:{slug}", f'href="/issuers/{slug}/did.json"',
                 f'href="/issuers/{slug}/jwks.json"', "In use", "Retired", "Compromised",
                 "signatures dated from then on are refused", "the badges it signed before stay valid",
                 'rel="alternate" type="application/ld+json"'):
        assert text in html, text


# ----------------------------------------------------------------------------------------- did:key style


def test_did_key_style_names_the_issuer_by_its_key_and_still_publishes_the_keys(client, make_issuer, in_app, app):
    app.config["ISSUER_ID_STYLE"] = "did:key"
    slug = make_issuer()
    multikey = in_app(lambda: signing_identity(get_organisation_by_slug(slug), app.config).ed25519_key.public_key)
    profile = client.get(f"/issuers/{slug}", headers=LD).get_json()
    assert profile["id"] == f"did:key:{multikey}"
    assert all("iss" not in jwk for jwk in client.get(f"/issuers/{slug}/jwks.json").get_json()["keys"])
    html = client.get(f"/issuers/{slug}").get_data(as_text=True)
    assert f"did:key:{multikey}" in html and "it changes when the key is replaced" in html
    signed, token = issue(in_app, app, slug)
    assert signed["issuer"]["id"] == f"did:key:{multikey}"
    for document in (signed, token):
        report = in_app(lambda d=document: verify(d, build_resolver(app), now()))
        assert report.verified, checks(report)
