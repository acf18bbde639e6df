"""Territory pages: the public registry, and coordinators deciding on memberships (and nobody else)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import current_app
from sqlalchemy import select

from badgehub.accounts.service import create_user
from badgehub.audit.models import AuditEvent
from badgehub.extensions import db
from badgehub.organisations.models import Organisation
from badgehub.organisations.service import ProfileFields, create_organisation
from badgehub.territory.models import MembershipStatus, TerritoryMembership
from badgehub.territory.service import add_coordinator, create_territory, decide_membership, request_membership
from tests.conftest import csrf_token_from, sign_in, token_of
from tests.functional.test_organisations import Person, profile_form


@dataclass(frozen=True)
class Registry:
    """Two territories, Évry (coordinator, admin) and Lyon (its own coordinator), with organisations in each
    state of Évry's registry."""

    coordinator: Person
    lyon_coordinator: Person
    admin: Person
    owner: dict[str, Person]
    membership: dict[str, int]
    lyon_membership: int


def make_person(email: str, **options: Any) -> Person:
    user = create_user(email, name=email.split("@")[0].title(), verified=True, **options)
    return Person(user.id, user.email, user.get_id())


def _shared_world() -> Registry:
    """The world these tests share: a ``snapshot`` build, made once per test process."""
    evry = create_territory(name="Évry", slug="evry", description="A <learning> city",
                            charter="We recognise\nall learning.", areas=[("centre", "Centre-ville")])
    lyon = create_territory(name="Lyon", slug="lyon")
    coordinator = create_user("coord@example.org", name="Sophie", verified=True)
    lyon_coordinator = create_user("lyon@example.org", verified=True)
    add_coordinator(territory_slug="evry", user=coordinator, actor_id=None)
    add_coordinator(territory_slug="lyon", user=lyon_coordinator, actor_id=None)
    admin = make_person("admin@example.org", is_admin=True)
    owners, memberships = {}, {}
    plan = [("pending", "Maison <b>des</b> jeunes", "civic", []),
            ("approved", "Médiathèque", "public_services", ["approve"]),
            ("other_approved", "Atelier Vélo", "community", ["approve"]),
            ("suspended", "Menuiserie", "economic", ["approve", "suspend"]),
            ("rejected", "Club fermé", "education", ["reject"])]
    for key, name, sector, steps in plan:
        owner = create_user(f"{key}@example.org", verified=True)
        organisation = create_organisation(owner, ProfileFields(name=name, type="association", sector=sector),
                                           config=current_app.config)
        membership = request_membership(organisation, evry, owner, f"Please let {name} in")
        for step in steps:
            decide_membership(membership, step, coordinator, "Reason for " + step)
        owners[key] = Person(owner.id, owner.email, owner.get_id())
        memberships[key] = membership.id
    lyon_owner = create_user("lyon-owner@example.org", verified=True)
    lyon_org = create_organisation(lyon_owner, ProfileFields(name="Lyon Club", type="company", sector="economic"),
                                   config=current_app.config)
    lyon_membership = request_membership(lyon_org, lyon, lyon_owner).id
    return Registry(coordinator=Person(coordinator.id, coordinator.email, coordinator.get_id()),
                    lyon_coordinator=Person(lyon_coordinator.id, lyon_coordinator.email,
                                            lyon_coordinator.get_id()),
                    admin=admin, owner=owners, membership=memberships, lyon_membership=lyon_membership)


@pytest.fixture
def registry(snapshot: Any) -> Registry:
    return snapshot(_shared_world)


def status_of(query: Any, membership_id: int) -> MembershipStatus:
    return query(lambda: db.session.scalar(select(TerritoryMembership.status).where(
        TerritoryMembership.id == membership_id)))


def decide(client: Any, slug: str, membership_id: int, decision: str, reason: str = "", token: str = "") -> Any:
    prefix = f"m{membership_id}"
    data = {f"{prefix}-decision": decision, f"{prefix}-reason": reason}
    if token:
        data["csrf_token"] = token
    return client.post(f"/coordinate/{slug}/memberships/{membership_id}", data=data)


def test_public_page_lists_only_approved_members_grouped_by_sector(client, registry):
    response = client.get("/t/evry")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Médiathèque" in html and "Atelier Vélo" in html
    assert html.index("Public services") < html.index("Médiathèque") < html.index("Community and volunteering") \
        < html.index("Atelier Vélo")
    for hidden in ("Maison", "Menuiserie", "Club fermé"):
        assert hidden not in html
    assert "A &lt;learning&gt; city" in html
    assert "We recognise\nall learning." in html
    assert "Centre-ville" in html


def test_unknown_territory_is_404(client):
    assert client.get("/t/nowhere").status_code == 404


def test_coordinator_sees_requests_with_their_messages_and_approves_one(client, registry, query):
    sign_in(client, registry.coordinator.session_id)
    page = client.get("/coordinate/evry")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Maison &lt;b&gt;des&lt;/b&gt; jeunes" in html
    assert "Please let Maison &lt;b&gt;des&lt;/b&gt; jeunes in" in html
    response = decide(client, "evry", registry.membership["pending"], "approve", token=csrf_token_from(html))
    assert response.status_code == 302
    assert status_of(query, registry.membership["pending"]) == MembershipStatus.APPROVED
    event = query(lambda: db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "territory.membership_approved",
        AuditEvent.subject_id == str(registry.membership["pending"]))).one())
    assert (event.actor_id, event.details["from"], event.details["to"]) == (registry.coordinator.id, "pending",
                                                                            "approved")
    assert "Maison &lt;b&gt;des&lt;/b&gt; jeunes" in client.get("/t/evry").get_data(as_text=True)


@pytest.mark.parametrize(("key", "decision"), [("pending", "reject"), ("approved", "suspend"),
                                               ("approved", "remove"), ("suspended", "remove")])
def test_reject_suspend_and_remove_without_a_reason_are_refused(client, registry, query, key, decision):
    sign_in(client, registry.coordinator.session_id)
    token = token_of(client, "/coordinate/evry")
    before = status_of(query, registry.membership[key])
    response = decide(client, "evry", registry.membership[key], decision, reason="  ", token=token)
    assert response.status_code == 400
    assert "Give a reason: the organisation will read it." in response.get_data(as_text=True)
    assert status_of(query, registry.membership[key]) == before


def test_every_decision_is_audited_with_its_reason_and_shown_in_the_history(client, registry, query):
    sign_in(client, registry.coordinator.session_id)
    token = token_of(client, "/coordinate/evry")
    membership = registry.membership["approved"]
    for decision, reason in [("suspend", "Badges issued without evidence"), ("reinstate", "Evidence supplied"),
                             ("remove", "Closed down")]:
        assert decide(client, "evry", membership, decision, reason, token).status_code == 302
    details = query(lambda: [(e.action, e.actor_id, e.details.get("reason")) for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.subject_type == "territory_membership",
                                 AuditEvent.subject_id == str(membership)).order_by(AuditEvent.id))])
    assert details[-3:] == [
        ("territory.membership_suspended", registry.coordinator.id, "Badges issued without evidence"),
        ("territory.membership_reinstated", registry.coordinator.id, "Evidence supplied"),
        ("territory.membership_removed", registry.coordinator.id, "Closed down")]
    history = client.get("/coordinate/evry").get_data(as_text=True)
    assert "Badges issued without evidence" in history
    assert "Sophie" in history
    assert status_of(query, membership) == MembershipStatus.REMOVED


def test_a_decision_that_no_longer_applies_is_refused_with_a_message(client, registry, query):
    sign_in(client, registry.coordinator.session_id)
    token = token_of(client, "/coordinate/evry")
    response = decide(client, "evry", registry.membership["approved"], "approve", token=token)
    assert response.status_code == 302
    assert "does not apply to the membership as it is now" in client.get(response.headers["Location"]).get_data(
        as_text=True)
    assert status_of(query, registry.membership["approved"]) == MembershipStatus.APPROVED


def test_unknown_decision_posted_by_hand_is_refused(client, registry, query):
    sign_in(client, registry.coordinator.session_id)
    token = token_of(client, "/coordinate/evry")
    response = decide(client, "evry", registry.membership["pending"], "banish", "because", token)
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert status_of(query, registry.membership["pending"]) == MembershipStatus.PENDING


def test_decision_without_csrf_token_is_refused(client, registry, query):
    sign_in(client, registry.coordinator.session_id)
    response = decide(client, "evry", registry.membership["pending"], "approve")
    assert response.status_code == 400
    assert status_of(query, registry.membership["pending"]) == MembershipStatus.PENDING


@pytest.mark.parametrize("who", ["owner_of_pending", "owner_of_approved", "stranger"])
def test_non_coordinators_cannot_see_or_decide(client, registry, setup, query, who):
    if who == "stranger":
        session_id = setup(lambda: make_person("stranger@example.org")).session_id
    else:
        session_id = registry.owner[who.removeprefix("owner_of_")].session_id
    sign_in(client, session_id)
    token = token_of(client, "/organisations")
    assert client.get("/coordinate").status_code == 403
    assert client.get("/coordinate/evry").status_code == 403
    for key in ("pending", "approved"):
        response = decide(client, "evry", registry.membership[key], "approve" if key == "pending" else "suspend",
                          "taking over", token)
        assert response.status_code == 403
    assert status_of(query, registry.membership["pending"]) == MembershipStatus.PENDING
    assert status_of(query, registry.membership["approved"]) == MembershipStatus.APPROVED
    assert "Coordination" not in client.get("/", follow_redirects=True).get_data(as_text=True)


def test_coordinator_of_one_territory_cannot_decide_in_another(client, registry, query):
    sign_in(client, registry.lyon_coordinator.session_id)
    token = token_of(client, "/coordinate/lyon")
    assert client.get("/coordinate/evry").status_code == 403
    assert decide(client, "evry", registry.membership["pending"], "approve", token=token).status_code == 403
    # Évry's membership reached through Lyon's page: not Lyon's to decide, and not found there.
    assert decide(client, "lyon", registry.membership["pending"], "approve", token=token).status_code == 404
    assert status_of(query, registry.membership["pending"]) == MembershipStatus.PENDING
    assert decide(client, "lyon", registry.lyon_membership, "approve", token=token).status_code == 302
    assert status_of(query, registry.lyon_membership) == MembershipStatus.APPROVED


def test_platform_admin_may_decide_in_every_territory(client, registry, query):
    sign_in(client, registry.admin.session_id)
    html = client.get("/coordinate").get_data(as_text=True)
    assert "/coordinate/evry" in html and "/coordinate/lyon" in html
    token = csrf_token_from(html)
    assert decide(client, "lyon", registry.lyon_membership, "reject", "Out of area", token).status_code == 302
    assert status_of(query, registry.lyon_membership) == MembershipStatus.REJECTED


def test_menu_shows_coordination_to_coordinators(client, registry):
    sign_in(client, registry.coordinator.session_id)
    html = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert 'href="/coordinate"' in html
    index = client.get("/coordinate").get_data(as_text=True)
    assert "/coordinate/evry" in index and "/coordinate/lyon" not in index
    assert "1 request waiting" in index


def organisation_slug(query: Any, owner: Person) -> str:
    from badgehub.organisations.models import OrganisationMember

    return query(lambda: db.session.scalar(select(Organisation.slug).join(OrganisationMember).where(
        OrganisationMember.user_id == owner.id)))


def test_suspended_organisation_loses_its_rights_and_regains_them_when_reinstated(client, registry, query):
    owner = registry.owner["suspended"]
    slug = organisation_slug(query, owner)
    sign_in(client, owner.session_id)
    overview = client.get(f"/organisations/{slug}")
    assert overview.status_code == 200
    assert "This organisation is suspended." in overview.get_data(as_text=True)
    assert "Reason for suspend" in overview.get_data(as_text=True)
    assert client.get(f"/organisations/{slug}/staff").status_code == 200
    token = csrf_token_from(overview.get_data(as_text=True))
    refused = [
        client.post(f"/organisations/{slug}/profile", data={**profile_form(name="Menuiserie", sector="economic"),
                                                             "slug": slug, "csrf_token": token}),
        client.post(f"/organisations/{slug}/staff", data={"email": "new@example.org", "role": "issuer",
                                                          "csrf_token": token}),
        client.post(f"/organisations/{slug}/territories", data={"territory": "lyon", "csrf_token": token}),
    ]
    for response in refused:
        assert response.status_code == 403
        assert "is suspended in Évry" in response.get_data(as_text=True)
    assert query(lambda: db.session.scalar(select(Organisation.description).where(Organisation.slug == slug))) == ""

    sign_in(client, registry.coordinator.session_id)
    assert decide(client, "evry", registry.membership["suspended"], "reinstate", "", token).status_code == 302

    sign_in(client, owner.session_id)
    saved = client.post(f"/organisations/{slug}/profile", data={
        **profile_form(name="Menuiserie", sector="economic", description="Back in good standing"),
        "slug": slug, "csrf_token": token})
    assert saved.status_code == 302
    assert query(lambda: db.session.scalar(select(Organisation.description).where(Organisation.slug == slug))) \
        == "Back in good standing"
