"""The public documents of issued credentials, through HTTP: as issued, cacheable, cross-origin, verifiable
with nothing but what the platform publishes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import current_app
from flask.testing import FlaskClient

from badgehub.achievements.service import public_achievement
from badgehub.credentials.baking import extract_from_png, extract_from_svg
from badgehub.credentials.did import did_web_to_url
from badgehub.issuing import service as issuing
from badgehub.verification.fetch import SafeFetcher
from badgehub.verification.pipeline import verify
from badgehub.verification.platform import build_resolver
from badgehub.verification.report import CheckStatus
from badgehub.verification.resolver import ChainResolver, LocalResolver, StaticResolver
from badgehub.web.caching import PUBLIC_DOCUMENT
from tests.factories import world_ids

OWN_CHECKS = ("proof", "issuer_key", "status")



@pytest.fixture
def world(snapshot: Any) -> dict[str, Any]:
    return snapshot(world_ids)


def award(setup: Any, world: dict[str, Any], badge: str = "repair", **options: Any) -> str:
    def run() -> str:
        achievement = public_achievement(world[badge])
        options.setdefault("config", current_app.config)
        credential = issuing.issue_credential(
            organisation=achievement.organisation, achievement=achievement, recipient_email="lea@example.net",
            recipient_name="Léa", actor_id=None, source="cli", **options)
        return str(credential.public_id)

    return setup(run)


def stored(setup: Any, public_id: str) -> tuple[str, str]:
    return setup(lambda: (issuing.get_credential(public_id).document_json, issuing.get_credential(public_id).vc_jwt))


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def test_the_json_is_served_byte_for_byte_as_issued(client, setup, world):
    public_id = award(setup, world)
    document_json, _ = stored(setup, public_id)
    response = client.get(f"/c/{public_id}.json")
    assert response.status_code == 200
    assert response.data == document_json.encode("utf-8")
    assert response.mimetype == "application/vc+ld+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["X-Robots-Tag"] == "noindex"
    assert response.headers["Cache-Control"] == PUBLIC_DOCUMENT
    again = client.get(f"/c/{public_id}.json", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_the_jwt_is_served_as_text(client, setup, world):
    public_id = award(setup, world)
    _, token = stored(setup, public_id)
    response = client.get(f"/c/{public_id}.jwt")
    assert (response.status_code, response.mimetype, response.get_data(as_text=True)) == (200, "text/plain", token)
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_a_png_badge_is_served_baked_as_png_and_as_svg(client, setup, world, app):
    public_id = award(setup, world)
    document_json, _ = stored(setup, public_id)
    png = client.get(f"/c/{public_id}.png")
    assert (png.status_code, png.mimetype) == (200, "image/png")
    assert extract_from_png(png.data).payload == document_json
    svg = client.get(f"/c/{public_id}.svg")
    assert (svg.status_code, svg.mimetype) == (200, "image/svg+xml")
    assert extract_from_svg(svg.data).payload == document_json
    assert "default-src 'none'" in svg.headers["Content-Security-Policy"]
    with app.app_context():
        for data in (png.data, svg.data):
            assert verify(data, build_resolver(app, fetch=_no_network), now()).verified


def test_an_svg_badge_has_no_png_and_says_so(client, setup, world):
    public_id = award(setup, world, "reading")
    assert client.get(f"/c/{public_id}.svg").status_code == 200
    response = client.get(f"/c/{public_id}.png", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "image_format_unavailable"
    assert "SVG" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("suffix", [".json", ".jwt", ".png", ".svg"])
def test_an_unknown_credential_is_a_404(client, suffix):
    response = client.get(f"/c/aaaaaaaaaaaa{suffix}", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "credential_not_found"


def test_the_status_list_is_signed_cacheable_and_cross_origin(client, setup, world):
    award(setup, world)
    url = f"/issuers/{world['a']}/status/1"
    response = client.get(url)
    assert (response.status_code, response.mimetype) == (200, "application/vc+ld+json")
    assert response.headers["Cache-Control"] == PUBLIC_DOCUMENT
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    document = response.get_json(force=True)
    assert document["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert document["proof"][0]["type"] == "DataIntegrityProof"
    assert client.get(url, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    # Served again from the cache: the same bytes.
    assert client.get(url).data == response.data


@pytest.mark.parametrize("path", ["/issuers/{a}/status/2", "/issuers/nobody/status/1", "/issuers/{b}/status/1"])
def test_unknown_status_lists_are_json_404(client, setup, world, path):
    award(setup, world)
    response = client.get(path.format(a=world["a"], b=world["b"]))
    assert response.status_code == 404 and "error" in response.get_json()
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def published_resolver(client: FlaskClient, slug: str) -> ChainResolver:
    """Nothing but what the issuer publishes over HTTP, filed under the addresses a verifier fetches."""
    did_document = client.get(f"/issuers/{slug}/did.json").get_json()
    status_list = client.get(f"/issuers/{slug}/status/1").get_json(force=True)
    return ChainResolver(StaticResolver({
        did_web_to_url(did_document["id"]): did_document,
        f"http://localhost/issuers/{slug}/status/1": status_list,
    }), LocalResolver())


def test_a_credential_verifies_with_nothing_but_the_published_documents(client, setup, world):
    public_id = award(setup, world)
    document = client.get(f"/c/{public_id}.json").get_json(force=True)
    token = client.get(f"/c/{public_id}.jwt").get_data(as_text=True)
    for data in (document, token):
        report = verify(data, published_resolver(client, world["a"]), now())
        assert report.verified, [(c.id, c.code) for c in report.checks]
        assert all(report.check(name).status is CheckStatus.PASSED for name in OWN_CHECKS)


def test_a_revocation_shows_in_the_published_list(client, setup, world):
    public_id = award(setup, world)
    before = client.get(f"/issuers/{world['a']}/status/1")
    setup(lambda: issuing.revoke_credential(issuing.get_credential(public_id), note="Erreur", actor_id=None,
                                            config=current_app.config))
    after = client.get(f"/issuers/{world['a']}/status/1", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    document = client.get(f"/c/{public_id}.json").get_json(force=True)
    report = verify(document, published_resolver(client, world["a"]), now())
    assert report.revoked is True and report.check("status").code == "revoked"


def _no_network(url: str) -> bytes:
    raise AssertionError(f"the platform tried to fetch {url}")


def test_the_platform_verifies_its_own_credentials_without_any_request(app, setup, world):
    public_id = award(setup, world)
    document_json, token = stored(setup, public_id)
    with app.app_context():
        resolver = build_resolver(app, fetch=_no_network)
        for data in (document_json, token):
            report = verify(data, resolver, now())
            assert report.verified
            assert all(report.check(name).status is CheckStatus.PASSED for name in OWN_CHECKS)


def test_the_verification_api_answers_our_credentials_from_the_database(client, setup, world, app):
    from badgehub.verification.platform import FETCHER_EXTENSION

    class Refusing(SafeFetcher):
        def fetch(self, url: str) -> bytes:
            raise AssertionError(f"the API tried to fetch {url}")

    app.extensions[FETCHER_EXTENSION] = Refusing()
    public_id = award(setup, world)
    document_json, _ = stored(setup, public_id)
    response = client.post("/api/v1/verify", data=document_json, content_type="application/json")
    body = response.get_json()
    assert response.status_code == 200 and body["verified"] is True, body
    assert {c["id"]: c["status"] for c in body["checks"]}["status"] == "passed"
    setup(lambda: issuing.revoke_credential(issuing.get_credential(public_id), note="Erreur", actor_id=None,
                                            config=current_app.config))
    body = client.post("/api/v1/verify", data=document_json, content_type="application/json").get_json()
    assert (body["verified"], body["verdict"]) == (False, "revoked")
