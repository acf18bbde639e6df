"""The territory's known-issuer registry (``/t/<slug>/registry.json``), in the DCC format verifiers load."""

from __future__ import annotations

from sqlalchemy import select

from badgehub.extensions import db
from badgehub.keys.identity import did_key_of
from badgehub.keys.models import KeyAlgorithm, KeyState, SigningKey
from badgehub.keys.service import rotate_keys
from badgehub.organisations.models import Organisation
from badgehub.organisations.service import get_organisation_by_slug
from badgehub.territory.models import TerritoryMembership
from badgehub.territory.service import decide_membership
from tests.conftest import TEST_KEK, sign_in, token_of
from tests.functional.test_territories import decide, registry

__all__ = ["registry"]  # the fixture of the territory tests


def slug_of(query, membership_id):
    return query(lambda: db.session.scalar(select(Organisation.slug).join(TerritoryMembership).where(
        TerritoryMembership.id == membership_id)))


def test_registry_lists_approved_members_by_did_web_with_name_url_and_location(client, registry, query):
    response = client.get("/t/evry/registry.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    document = response.get_json()
    approved, other = slug_of(query, registry.membership["approved"]), slug_of(query,
                                                                                registry.membership["other_approved"])
    assert set(document["registry"]) == {f"did:web:localhost:issuers:{approved}",
                                         f"did:web:localhost:issuers:{other}"}
    entry = document["registry"][f"did:web:localhost:issuers:{approved}"]
    assert entry == {"name": "Médiathèque", "url": f"http://localhost/issuers/{approved}"}
    assert document["meta"]["created"].endswith("Z") and document["meta"]["updated"] >= document["meta"]["created"]


def test_registry_shows_the_organisation_url_and_location_when_it_has_them(client, registry, query):
    approved = slug_of(query, registry.membership["approved"])

    def fill() -> None:
        organisation = get_organisation_by_slug(approved)
        organisation.url, organisation.locality, organisation.country_code = "https://media.example.org/", "Évry", "FR"
        db.session.commit()

    query(fill)
    entry = client.get("/t/evry/registry.json").get_json()["registry"][f"did:web:localhost:issuers:{approved}"]
    assert entry == {"name": "Médiathèque", "url": "https://media.example.org/", "location": "Évry, FR"}


def test_suspension_and_approval_change_the_registry_at_once(client, registry, query):
    sign_in(client, registry.coordinator.session_id)
    token = token_of(client, "/coordinate/evry")
    approved = slug_of(query, registry.membership["approved"])
    pending = slug_of(query, registry.membership["pending"])
    before = client.get("/t/evry/registry.json")
    assert decide(client, "evry", registry.membership["approved"], "suspend", "Complaints",
                  token=token).status_code == 302
    assert decide(client, "evry", registry.membership["pending"], "approve", token=token).status_code == 302
    after = client.get("/t/evry/registry.json")
    listed = set(after.get_json()["registry"])
    assert f"did:web:localhost:issuers:{approved}" not in listed
    assert f"did:web:localhost:issuers:{pending}" in listed
    assert after.headers["ETag"] != before.headers["ETag"]
    assert after.get_json()["meta"]["updated"] >= before.get_json()["meta"]["updated"]


def test_an_organisation_suspended_in_another_territory_leaves_this_registry(client, registry, query):
    other = slug_of(query, registry.membership["other_approved"])

    def suspend_elsewhere() -> None:
        from badgehub.accounts.models import User
        from badgehub.territory.service import create_territory, request_membership

        organisation = get_organisation_by_slug(other)
        paris = create_territory(name="Paris", slug="paris")
        admin = db.session.get(User, registry.admin.id)
        owner = db.session.get(User, registry.owner["other_approved"].id)
        membership = request_membership(organisation, paris, owner)
        decide_membership(membership, "approve", admin)
        decide_membership(membership, "suspend", admin, "Paused")
        db.session.commit()

    query(suspend_elsewhere)
    assert f"did:web:localhost:issuers:{other}" not in client.get("/t/evry/registry.json").get_json()["registry"]


def test_registry_in_did_key_style_lists_active_and_retired_keys_but_not_compromised(app, client, registry, query):
    app.config["ISSUER_ID_STYLE"] = "did:key"
    approved = slug_of(query, registry.membership["approved"])

    def rotate_and_compromise() -> list[tuple[KeyState, str]]:
        organisation = get_organisation_by_slug(approved)
        rotate_keys(organisation, bytes.fromhex(TEST_KEK), None)
        db.session.commit()
        keys = list(db.session.scalars(select(SigningKey).where(
            SigningKey.organisation_id == organisation.id, SigningKey.algorithm == KeyAlgorithm.ED25519)))
        keys[0].state = KeyState.COMPROMISED
        db.session.commit()
        return [(key.state, key.public_key) for key in keys]

    keys = query(rotate_and_compromise)
    listed = client.get("/t/evry/registry.json").get_json()["registry"]
    for state, public_key in keys:
        assert (did_key_of(public_key) in listed) is (state is not KeyState.COMPROMISED)
    assert not any(did.startswith("did:web:") for did in listed)


def test_registry_answers_304_to_its_etag(client, registry):
    etag = client.get("/t/evry/registry.json").headers["ETag"]
    assert client.get("/t/evry/registry.json", headers={"If-None-Match": etag}).status_code == 304


def test_registry_of_an_unknown_territory_is_a_json_404(client):
    response = client.get("/t/nowhere/registry.json", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
