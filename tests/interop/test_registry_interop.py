"""The DCC's own registry client (``@digitalcredentials/issuer-registry-client``) loads a territory's
``/t/<slug>/registry.json`` from a running BadgeHub and finds its approved issuers, and only those."""

from __future__ import annotations

from typing import Any

import pytest
from flask import current_app

from badgehub.accounts.models import User
from badgehub.accounts.service import create_user
from badgehub.extensions import db
from badgehub.organisations.service import ProfileFields, create_organisation
from badgehub.territory.service import create_territory, decide_membership, get_territory_by_slug, request_membership
from tests.browser.conftest import LiveServer, live_server

from .conftest import run_node

pytestmark = pytest.mark.interop

__all__ = ["live_server"]


def _territory_with_members(server: LiveServer) -> dict[str, str]:
    with server.app.app_context():
        create_territory(name="Évry", slug="evry")
        admin = create_user("admin@example.org", verified=True, is_admin=True)
        dids = {}
        for name, decisions in (("Médiathèque", ["approve"]), ("Menuiserie", ["approve", "suspend"]),
                                ("Club", [])):
            owner = create_user(f"{name[:4].lower()}@example.org", verified=True)
            organisation = create_organisation(owner, ProfileFields(
                name=name, type="association", sector="community", url="https://org.example.org/",
                locality="Évry", country_code="FR"), config=current_app.config)
            membership = request_membership(organisation, get_territory_by_slug("evry"), owner)
            for decision in decisions:
                decide_membership(membership, decision, db.session.get(User, admin.id), "reason")
            host = server.url.removeprefix("http://").replace(":", "%3A")
            dids[name] = f"did:web:{host}:issuers:{organisation.slug}"
        db.session.commit()
        return dids


def test_dcc_registry_client_finds_approved_issuers_and_not_the_others(node: str, live_server: LiveServer) -> None:
    dids = _territory_with_members(live_server)
    result: dict[str, Any] = run_node(node, "registry_client.mjs", {
        "url": f"{live_server.url}/t/evry/registry.json", "dids": list(dids.values())})
    assert result["loaded"] == [{"name": "BadgeHub territory", "loaded": True}]
    assert result["entries"][dids["Médiathèque"]] == {
        "name": "Médiathèque", "url": "https://org.example.org/", "location": "Évry, FR",
        "inRegistries": ["BadgeHub territory"]}
    assert result["entries"][dids["Menuiserie"]] is None
    assert result["entries"][dids["Club"]] is None
