"""HTTP caching a CDN can use safely: ETags and 304 on the credential's documents, status lists, DID documents and
JWK sets; a short public cache with stale-while-revalidate and no Vary: Cookie on documents that do not depend on
the visitor; no-store on pages that carry a CSRF form."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import current_app
from flask.testing import FlaskClient

from badgehub.issuing import service as issuing
from badgehub.web.caching import PUBLIC_DOCUMENT
from tests.functional.test_wallet import LEA, award, build_wallet_world

pytestmark = pytest.mark.usefixtures("offline")


@pytest.fixture
def world(snapshot: Any) -> dict[str, Any]:
    return snapshot(build_wallet_world)


def documents(public_id: str, slug: str) -> list[str]:
    return [f"/c/{public_id}.json", f"/c/{public_id}.jwt", f"/c/{public_id}.png", f"/c/{public_id}.svg",
            f"/c/{public_id}.pdf?lang=fr", f"/issuers/{slug}/status/1", f"/issuers/{slug}/did.json",
            f"/issuers/{slug}/jwks.json", "/.well-known/jwks.json"]


def test_public_documents_are_cacheable_by_anyone_and_answer_304(client: FlaskClient, setup: Any,
                                                                  world: Any) -> None:
    public_id = award(setup, world, LEA)
    assert "max-age=60" in PUBLIC_DOCUMENT and "stale-while-revalidate" in PUBLIC_DOCUMENT
    for url in documents(public_id, world["a"]):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == PUBLIC_DOCUMENT, url
        assert "Cookie" not in response.headers.get("Vary", ""), url
        assert "Set-Cookie" not in response.headers, url
        etag = response.headers["ETag"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert (again.status_code, again.get_data()) == (304, b""), url


def test_a_document_whose_language_comes_from_the_visitor_is_theirs_alone(client: FlaskClient, setup: Any,
                                                                          world: Any) -> None:
    public_id = award(setup, world, LEA)
    response = client.get(f"/c/{public_id}.pdf", headers={"Accept-Language": "fr"})
    assert response.headers["Cache-Control"].startswith("private")
    assert {"Accept-Language", "Cookie"} <= set(response.vary)


def test_the_list_etag_changes_with_a_revocation(client: FlaskClient, setup: Any, world: Any) -> None:
    public_id = award(setup, world, LEA)
    url = f"/issuers/{world['a']}/status/1"
    etag = client.get(url).headers["ETag"]
    setup(lambda: issuing.revoke_credential(issuing.get_credential(public_id), note="Erreur", actor_id=None,
                                            config=current_app.config))
    response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200 and response.headers["ETag"] != etag


def test_the_credential_page_is_never_stored_but_answers_304_to_its_own_etag(client: FlaskClient, setup: Any,
                                                                              world: Any) -> None:
    public_id = award(setup, world, LEA)
    first = client.get(f"/c/{public_id}")
    assert first.headers["Cache-Control"] == "no-store"  # it carries CSRF forms
    etag = first.headers["ETag"]
    time.sleep(1.05)  # a CSRF token signed a second later is another string, and as good: same page
    again = client.get(f"/c/{public_id}", headers={"If-None-Match": etag})
    assert (again.status_code, again.get_data()) == (304, b"")
    setup(lambda: issuing.revoke_credential(issuing.get_credential(public_id), note="Erreur", actor_id=None,
                                            config=current_app.config))
    changed = client.get(f"/c/{public_id}", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "Revoked" in changed.get_data(as_text=True)
