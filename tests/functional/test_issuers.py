"""The public issuer profile, /issuers/<slug>: who the issuer is, how to reach it, where it stands."""

from __future__ import annotations

from typing import Any

import pytest
from flask import current_app

from badgehub.accounts.service import create_user
from badgehub.organisations.service import ProfileFields, create_organisation
from badgehub.territory.models import Area
from badgehub.territory.service import add_coordinator, create_territory, decide_membership, request_membership


def publish(setup: Any, *, name: str = "Atelier Vélo", decisions: dict[str, list[str]] | None = None,
            **profile: Any) -> str:
    """An organisation with a full profile, and its memberships in Évry and Lyon after ``decisions``."""

    def build() -> str:
        owner = create_user("owner@example.org", verified=True)
        coordinator = create_user("coord@example.org", verified=True)
        territories = {}
        for slug, title in (("evry", "Évry"), ("lyon", "Lyon")):
            territories[slug] = create_territory(name=title, slug=slug, areas=[("centre", f"{title} centre")])
            add_coordinator(territory_slug=slug, user=coordinator, actor_id=None)
        area: Area = territories["evry"].areas[0]
        fields = {"name": name, "type": "library", "sector": "public_services",
                  "description": "Books, games and a Saturday fablab.", "url": "https://mediatheque.example.org/",
                  "email": "contact@mediatheque.example.org", "phone": "+33 1 60 00 00 00",
                  "street_address": "1 place des Tilleuls", "postal_code": "91000", "locality": "Évry",
                  "country_code": "FR", "area_id": area.id, "image_url": "https://cdn.example.net/logo.png"}
        fields.update(profile)
        organisation = create_organisation(owner, ProfileFields(**fields), config=current_app.config)
        # Every request first: once suspended somewhere, the organisation may not ask anywhere else.
        memberships = {slug: request_membership(organisation, territories[slug], owner) for slug in decisions or {}}
        for slug, steps in (decisions or {}).items():
            for step in steps:
                decide_membership(memberships[slug], step, coordinator, "Reason for " + step)
        return organisation.slug

    return setup(build)


def test_profile_shows_identity_contact_and_address(client, setup):
    slug = publish(setup)
    response = client.get(f"/issuers/{slug}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for text in ("Atelier Vélo", "Library", "Public services", "Books, games and a Saturday fablab.",
                 'href="https://mediatheque.example.org/"', "mailto:contact@mediatheque.example.org",
                 "tel:+33160000000", "1 place des Tilleuls", "91000", "France", "Évry centre"):
        assert text in html, text


def test_profile_says_approved_member_since_and_hides_pending_territories(client, setup):
    slug = publish(setup, decisions={"evry": ["approve"], "lyon": []})
    html = client.get(f"/issuers/{slug}").get_data(as_text=True)
    assert "Approved member of Évry since" in html
    assert "Lyon" not in html


def test_profile_says_when_a_membership_is_suspended(client, setup):
    slug = publish(setup, decisions={"evry": ["approve", "suspend"], "lyon": ["approve"]})
    html = client.get(f"/issuers/{slug}").get_data(as_text=True)
    assert "Membership of Évry suspended since" in html
    assert "Approved member of Lyon since" in html
    # The coordinators' reason is for the organisation, not for the public.
    assert "Reason for suspend" not in html


@pytest.mark.parametrize("steps", [["reject"], ["approve", "remove"]])
def test_rejected_and_removed_memberships_are_not_shown(client, setup, steps):
    slug = publish(setup, decisions={"evry": steps})
    html = client.get(f"/issuers/{slug}").get_data(as_text=True)
    assert "Not a member of any learning territory on this platform." in html


def test_profile_escapes_what_the_organisation_wrote(client, setup):
    slug = publish(setup, name="<script>alert(1)</script>", description='"><img src=x onerror=alert(1)>')
    html = client.get(f"/issuers/{slug}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html


def test_profile_loads_nothing_from_another_site(client, setup):
    slug = publish(setup)
    html = client.get(f"/issuers/{slug}").get_data(as_text=True)
    assert "cdn.example.net" not in html
    assert "<img" not in html


def test_unknown_issuer_is_404(client):
    assert client.get("/issuers/nobody").status_code == 404
