"""Organisation pages through the browser's eyes: creation, profile, staff, invitations, and who may do what."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from flask import current_app
from flask.testing import FlaskClient
from sqlalchemy import func, select

from badgehub.accounts.service import create_user
from badgehub.audit.models import AuditEvent
from badgehub.db import utcnow
from badgehub.extensions import db
from badgehub.organisations.models import Invitation, Organisation, OrganisationMember, Role
from badgehub.organisations.service import ProfileFields, create_organisation
from badgehub.organisations.staff import add_member, invite_member
from badgehub.territory.service import add_coordinator, create_territory
from badgehub.web.organisations import INVITATIONS_PER_HOUR
from tests.conftest import csrf_token_from, links_in, sign_in, token_of


@dataclass(frozen=True)
class Person:
    id: int
    email: str
    session_id: str


@dataclass(frozen=True)
class World:
    """Two organisations: A (owner, issuer, viewer) and B (owner, viewer); one territory, Évry."""

    a: str
    b: str
    owner_a: Person
    issuer_a: Person
    viewer_a: Person
    owner_b: Person
    viewer_b: Person
    viewer_b_member: int
    owner_b_member: int
    invitation_b: int
    coordinator: Person


def person(email: str, **options: Any) -> Person:
    user = create_user(email, name=email.split("@")[0].title(), verified=True, **options)
    return Person(user.id, user.email, user.get_id())


def _shared_world() -> World:
    """The world these tests share: a ``snapshot`` build, made once per test process."""
    create_territory(name="Évry", slug="evry", areas=[("centre", "Centre")])
    coordinator = create_user("coord@example.org", verified=True)
    add_coordinator(territory_slug="evry", user=coordinator, actor_id=None)
    users = {name: create_user(f"{name}@example.org", name=name.title(), verified=True)
             for name in ("owner_a", "issuer_a", "viewer_a", "owner_b", "viewer_b")}
    org_a = create_organisation(users["owner_a"], ProfileFields(name="Atelier Vélo", type="association",
                                                                sector="community"), config=current_app.config)
    org_b = create_organisation(users["owner_b"], ProfileFields(name="Bibliothèque", type="library",
                                                                sector="public_services"),
                                                                config=current_app.config)
    add_member(org_a, users["owner_a"], users["issuer_a"], "issuer")
    add_member(org_a, users["owner_a"], users["viewer_a"], "viewer")
    viewer_b = add_member(org_b, users["owner_b"], users["viewer_b"], "viewer")
    invitation, _ = invite_member(org_b, users["owner_b"], "guest@example.org", "issuer")
    owner_b_member = db.session.scalar(select(OrganisationMember.id).where(
        OrganisationMember.organisation_id == org_b.id, OrganisationMember.user_id == users["owner_b"].id))
    people = {name: Person(u.id, u.email, u.get_id()) for name, u in users.items()}
    return World(a=org_a.slug, b=org_b.slug, viewer_b_member=viewer_b.id, owner_b_member=owner_b_member,
                 invitation_b=invitation.id, coordinator=Person(coordinator.id, coordinator.email,
                                                                  coordinator.get_id()), **people)


@pytest.fixture
def world(snapshot: Any) -> World:
    return snapshot(_shared_world)


def organisation_count(query: Any) -> int:
    return query(lambda: db.session.scalar(select(func.count(Organisation.id))))


def profile_form(**overrides: str) -> dict[str, str]:
    data = {"name": "Maison des jeunes", "type": "association", "sector": "community", "description": "",
            "url": "", "email": "", "phone": "", "image_url": "", "street_address": "", "postal_code": "",
            "locality": "", "region": "", "country_code": "", "area_id": ""}
    data.update(overrides)
    return data


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/organisations")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")


def test_creating_an_organisation_makes_me_its_owner(client, setup, query):
    me = setup(lambda: person("founder@example.org"))
    sign_in(client, me.session_id)
    token = token_of(client, "/organisations/new")
    response = client.post("/organisations/new", data={**profile_form(
        name="Maison des jeunes", url="https://mdj.example.org", email="contact@mdj.example.org",
        phone="+33 1 60 00 00 00", locality="Évry", country_code="FR", description="Youth club"),
        "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/organisations/maison-des-jeunes"
    organisation, role = query(lambda: db.session.execute(
        select(Organisation, OrganisationMember.role).join(OrganisationMember)
        .where(OrganisationMember.user_id == me.id)).one())
    assert (organisation.name, organisation.url, organisation.country_code, role) == (
        "Maison des jeunes", "https://mdj.example.org", "FR", Role.OWNER)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Maison des jeunes is created. You are its owner." in page
    assert "Maison des jeunes" in client.get("/organisations").get_data(as_text=True)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"name": "   "}, "This field is required."),
    ({"url": "javascript:alert(1)"}, "Give a full web address starting with https://"),
    ({"url": "https://exa mple.org"}, "Give a full web address starting with https://"),
    ({"email": "contact@"}, "This does not look like an e-mail address."),
    ({"sector": "astrology"}, "Not a valid choice"),
    ({"type": ""}, "Choose one of the values offered."),
    ({"country_code": "XX"}, "Not a valid choice"),
    ({"area_id": "999999"}, "Not a valid choice"),
    ({"phone": "call me maybe"}, "Use digits, spaces and"),
])
def test_bad_input_gives_a_clear_message_and_creates_nothing(client, setup, query, overrides, message):
    me = setup(lambda: person("founder@example.org"))
    sign_in(client, me.session_id)
    token = token_of(client, "/organisations/new")
    before = organisation_count(query)
    response = client.post("/organisations/new", data={**profile_form(**overrides), "csrf_token": token})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert 'aria-invalid="true"' in html
    assert organisation_count(query) == before


def test_posting_without_csrf_token_is_refused_and_creates_nothing(client, setup, query):
    me = setup(lambda: person("founder@example.org"))
    sign_in(client, me.session_id)
    response = client.post("/organisations/new", data=profile_form())
    assert response.status_code == 400
    assert organisation_count(query) == 0


def test_unverified_person_is_asked_to_confirm_first(client, setup, query):
    me = setup(lambda: (lambda u: Person(u.id, u.email, u.get_id()))(create_user("new@example.org")))
    sign_in(client, me.session_id)
    page = client.get("/organisations/new").get_data(as_text=True)
    assert "Confirm your e-mail address first" in page
    response = client.post("/organisations/new", data={**profile_form(), "csrf_token": csrf_token_from(page)})
    assert response.status_code == 403
    assert organisation_count(query) == 0


def test_owner_edits_the_profile_and_the_change_is_audited(client, world, query):
    sign_in(client, world.owner_a.session_id)
    token = token_of(client, f"/organisations/{world.a}/profile")
    response = client.post(f"/organisations/{world.a}/profile", data={**profile_form(
        name="Atelier Vélo Évry", type="association", sector="community", description="Repairs <b>bikes</b>"),
        "slug": "atelier-velo-evry", "csrf_token": token})
    assert response.status_code == 302
    organisation = query(lambda: db.session.scalars(select(Organisation).where(
        Organisation.slug == "atelier-velo-evry")).one())
    assert (organisation.name, organisation.description) == ("Atelier Vélo Évry", "Repairs <b>bikes</b>")
    event = query(lambda: db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "organisation.profile_updated")).one())
    assert (event.actor_id, event.organisation_id) == (world.owner_a.id, organisation.id)
    public = client.get("/issuers/atelier-velo-evry").get_data(as_text=True)
    assert "Repairs &lt;b&gt;bikes&lt;/b&gt;" in public


def test_slug_taken_by_another_organisation_is_refused_with_a_message(client, world, query):
    sign_in(client, world.owner_a.session_id)
    token = token_of(client, f"/organisations/{world.a}/profile")
    response = client.post(f"/organisations/{world.a}/profile", data={
        **profile_form(name="Atelier Vélo"), "slug": world.b, "csrf_token": token})
    assert response.status_code == 409
    assert "Another organisation already uses this address." in response.get_data(as_text=True)
    assert query(lambda: db.session.scalar(select(Organisation.name).where(Organisation.slug == world.a)))


def test_viewer_reads_but_cannot_edit_or_manage_staff(client, world, query):
    sign_in(client, world.viewer_a.session_id)
    staff_page = client.get(f"/organisations/{world.a}/staff")
    assert staff_page.status_code == 200
    html = staff_page.get_data(as_text=True)
    assert "Invite someone" not in html
    token = csrf_token_from(html)
    viewer_member, issuer_member = query(lambda: [db.session.scalar(select(OrganisationMember.id).where(
        OrganisationMember.user_id == user_id)) for user_id in (world.viewer_a.id, world.issuer_a.id)])
    attempts = [
        client.get(f"/organisations/{world.a}/profile"),
        client.post(f"/organisations/{world.a}/profile", data={**profile_form(), "csrf_token": token}),
        client.post(f"/organisations/{world.a}/staff", data={"email": "x@example.org", "role": "owner",
                                                            "csrf_token": token}),
        client.post(f"/organisations/{world.a}/staff/{viewer_member}/role", data={
            f"r{viewer_member}-role": "owner", "csrf_token": token}),
        client.post(f"/organisations/{world.a}/staff/{issuer_member}/remove", data={"csrf_token": token}),
        client.post(f"/organisations/{world.a}/territories", data={"territory": "evry", "csrf_token": token}),
    ]
    assert [r.status_code for r in attempts] == [403] * len(attempts)
    roles = query(lambda: dict(db.session.execute(select(OrganisationMember.user_id, OrganisationMember.role).join(
        Organisation).where(Organisation.slug == world.a)).tuples().all()))
    assert roles == {world.owner_a.id: Role.OWNER, world.issuer_a.id: Role.ISSUER, world.viewer_a.id: Role.VIEWER}


def management_requests(world: World) -> list[tuple[str, str, dict[str, str]]]:
    b, member, owner_member = world.b, world.viewer_b_member, world.owner_b_member
    return [
        ("GET", f"/organisations/{b}", {}),
        ("GET", f"/organisations/{b}/profile", {}),
        ("POST", f"/organisations/{b}/profile", {**profile_form(name="Taken over"), "slug": b}),
        ("GET", f"/organisations/{b}/staff", {}),
        ("POST", f"/organisations/{b}/staff", {"email": "intruder@example.org", "role": "owner"}),
        ("POST", f"/organisations/{b}/staff/{member}/role", {f"r{member}-role": "owner"}),
        ("POST", f"/organisations/{b}/staff/{owner_member}/role", {f"r{owner_member}-role": "viewer"}),
        ("POST", f"/organisations/{b}/staff/{member}/remove", {}),
        ("POST", f"/organisations/{b}/invitations/{world.invitation_b}/revoke", {}),
        ("GET", f"/organisations/{b}/territories", {}),
        ("POST", f"/organisations/{b}/territories", {"territory": "evry", "message": "hi"}),
        # B's records reached through A's address: the ids must not leak across organisations either.
        ("POST", f"/organisations/{world.a}/staff/{member}/role", {f"r{member}-role": "owner"}),
        ("POST", f"/organisations/{world.a}/staff/{member}/remove", {}),
        ("POST", f"/organisations/{world.a}/invitations/{world.invitation_b}/revoke", {}),
    ]


def snapshot_of_b(query: Any, world: World) -> Any:
    def read() -> Any:
        organisation = db.session.scalars(select(Organisation).where(Organisation.slug == world.b)).one()
        members = db.session.execute(select(OrganisationMember.user_id, OrganisationMember.role).where(
            OrganisationMember.organisation_id == organisation.id).order_by(OrganisationMember.user_id)).all()
        invitations = db.session.execute(select(Invitation.email, Invitation.revoked_at).where(
            Invitation.organisation_id == organisation.id)).all()
        return organisation.name, members, invitations, len(organisation.memberships)

    return query(read)


@pytest.mark.parametrize("who", ["owner_a", "issuer_a", "viewer_a", "coordinator"])
def test_staff_of_another_organisation_get_403_or_404_on_every_management_url(client, world, query, who):
    sign_in(client, getattr(world, who).session_id)
    token = token_of(client, "/organisations")
    before = snapshot_of_b(query, world)
    for method, url, data in management_requests(world):
        response = client.get(url) if method == "GET" else client.post(url, data={**data, "csrf_token": token})
        assert response.status_code in (403, 404), (method, url, response.status_code)
    assert snapshot_of_b(query, world) == before


def test_unknown_organisation_is_404(client, world):
    sign_in(client, world.owner_a.session_id)
    assert client.get("/organisations/no-such-organisation").status_code == 404


def test_dashboard_lists_only_my_organisations(client, world):
    sign_in(client, world.viewer_a.session_id)
    html = client.get("/organisations").get_data(as_text=True)
    assert "Atelier Vélo" in html
    assert "Bibliothèque" not in html
    assert "Your role: Viewer" in html


def invite_through_the_page(client: FlaskClient, world: World, email: str, role: str = "issuer") -> Any:
    sign_in(client, world.owner_a.session_id)
    token = token_of(client, f"/organisations/{world.a}/staff")
    return client.post(f"/organisations/{world.a}/staff", data={"email": email, "role": role, "csrf_token": token})


def invitation_path(message: Any) -> str:
    """The path of the invitation link in an e-mail (links are absolute, from BASE_URL)."""
    [link] = [url for url in links_in(message) if "/invitations/" in url]
    return link.removeprefix("http://localhost")


def test_invited_person_accepts_with_the_invited_address_once(client, world, outbox, setup, query):
    response = invite_through_the_page(client, world, "Newcomer@Example.org", "issuer")
    assert response.status_code == 302
    [message] = outbox()
    assert message["To"] == "Newcomer@example.org"
    assert "Atelier Vélo" in message["Subject"]
    path = invitation_path(message)
    token = path.rsplit("/", 1)[1]
    assert query(lambda: db.session.scalar(select(func.count(Invitation.id)).where(Invitation.token_hash == token)))\
        == 0

    with client.session_transaction() as session:
        session.clear()
    anonymous = client.get(path)
    assert anonymous.status_code == 200
    assert anonymous.headers["Cache-Control"] == "no-store"
    assert "/sign-in?next=" in anonymous.get_data(as_text=True)

    newcomer = setup(lambda: person("newcomer@example.org"))
    sign_in(client, newcomer.session_id)
    page = client.get(path)
    assert "Accept and join Atelier Vélo" in page.get_data(as_text=True)
    accepted = client.post(path, data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert accepted.status_code == 302
    assert accepted.headers["Location"] == f"/organisations/{world.a}"
    role = query(lambda: db.session.scalar(select(OrganisationMember.role).where(
        OrganisationMember.user_id == newcomer.id)))
    assert role == Role.ISSUER
    again = client.get(path)
    assert again.status_code == 400
    assert "already been used" in again.get_data(as_text=True)
    actions = query(lambda: set(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.subject_type == "invitation"))))
    assert {"organisation.member_invited", "organisation.invitation_accepted"} <= actions


def test_invitation_is_refused_to_another_address(client, world, outbox, setup, query):
    invite_through_the_page(client, world, "invited@example.org")
    path = invitation_path(outbox()[0])
    other = setup(lambda: person("someone.else@example.org"))
    sign_in(client, other.session_id)
    page = client.get(path).get_data(as_text=True)
    assert "this invitation was sent to another address" in page
    response = client.post(path, data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 403
    assert query(lambda: db.session.scalar(select(OrganisationMember.id).where(
        OrganisationMember.user_id == other.id))) is None


def test_expired_invitation_is_refused(client, world, outbox, setup):
    invite_through_the_page(client, world, "late@example.org")
    path = invitation_path(outbox()[0])

    def expire() -> None:
        for invitation in db.session.scalars(select(Invitation).where(Invitation.email == "late@example.org")):
            invitation.expires_at = utcnow() - dt.timedelta(minutes=1)

    setup(expire)
    late = setup(lambda: person("late@example.org"))
    sign_in(client, late.session_id)
    response = client.get(path)
    assert response.status_code == 400
    assert "has expired" in response.get_data(as_text=True)


def test_withdrawn_invitation_link_stops_working(client, world, outbox, query):
    invite_through_the_page(client, world, "maybe@example.org")
    path = invitation_path(outbox()[0])
    invitation_id = query(lambda: db.session.scalar(select(Invitation.id).where(
        Invitation.email == "maybe@example.org")))
    token = token_of(client, f"/organisations/{world.a}/staff")
    response = client.post(f"/organisations/{world.a}/invitations/{invitation_id}/revoke", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get(path).status_code == 400


def test_invitation_that_cannot_be_mailed_is_not_kept(app, client, world, query, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the outbox folder should be")
    app.config["OUTBOX_DIR"] = blocker
    response = invite_through_the_page(client, world, "unlucky@example.org")
    assert response.status_code == 503
    assert "Nothing was saved" in response.get_data(as_text=True)
    assert query(lambda: db.session.scalar(select(Invitation.id).where(Invitation.email == "unlucky@example.org"))) \
        is None


@pytest.mark.parametrize(("data", "message"), [
    ({"email": "not-an-address", "role": "viewer"}, "This does not look like an e-mail address."),
    ({"email": "owner_a@example.org", "role": "viewer"}, "already a member"),
    ({"email": "x@example.org", "role": "emperor"}, "Not a valid choice"),
])
def test_bad_invitations_are_refused_with_a_message(client, world, outbox, query, data, message):
    sign_in(client, world.owner_a.session_id)
    token = token_of(client, f"/organisations/{world.a}/staff")
    response = client.post(f"/organisations/{world.a}/staff", data={**data, "csrf_token": token})
    assert response.status_code in (400, 409)
    assert message in response.get_data(as_text=True)
    assert outbox() == []


def test_invitation_without_csrf_token_is_refused(client, world, outbox):
    sign_in(client, world.owner_a.session_id)
    response = client.post(f"/organisations/{world.a}/staff", data={"email": "x@example.org", "role": "viewer"})
    assert response.status_code == 400
    assert outbox() == []


def test_last_owner_can_be_neither_demoted_nor_removed(client, world, query):
    sign_in(client, world.owner_a.session_id)
    own = query(lambda: db.session.scalar(select(OrganisationMember.id).where(
        OrganisationMember.user_id == world.owner_a.id)))
    token = token_of(client, f"/organisations/{world.a}/staff")
    demoted = client.post(f"/organisations/{world.a}/staff/{own}/role", data={
        f"r{own}-role": "viewer", "csrf_token": token})
    removed = client.post(f"/organisations/{world.a}/staff/{own}/remove", data={"csrf_token": token})
    for response in (demoted, removed):
        assert response.status_code == 409
        assert "must keep at least one owner" in response.get_data(as_text=True)
    assert query(lambda: db.session.scalar(select(OrganisationMember.role).where(
        OrganisationMember.id == own))) == Role.OWNER


def test_owner_changes_a_role_and_removes_a_member(client, world, query):
    sign_in(client, world.owner_a.session_id)
    issuer, viewer = query(lambda: [db.session.scalar(select(OrganisationMember.id).where(
        OrganisationMember.user_id == user_id)) for user_id in (world.issuer_a.id, world.viewer_a.id)])
    token = token_of(client, f"/organisations/{world.a}/staff")
    promoted = client.post(f"/organisations/{world.a}/staff/{viewer}/role", data={
        f"r{viewer}-role": "owner", "csrf_token": token})
    assert promoted.status_code == 302
    removed = client.post(f"/organisations/{world.a}/staff/{issuer}/remove", data={"csrf_token": token})
    assert removed.status_code == 302
    members = query(lambda: dict(db.session.execute(select(OrganisationMember.user_id, OrganisationMember.role)
                                                    .join(Organisation).where(Organisation.slug == world.a))
                                 .tuples().all()))
    assert members == {world.owner_a.id: Role.OWNER, world.viewer_a.id: Role.OWNER}
    actions = query(lambda: [e.action for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.action.in_(["organisation.member_role_changed", "organisation.member_removed"]))
        .order_by(AuditEvent.id))])
    assert actions == ["organisation.member_role_changed", "organisation.member_removed"]


def test_a_viewer_may_leave(client, world, query):
    sign_in(client, world.viewer_a.session_id)
    own = query(lambda: db.session.scalar(select(OrganisationMember.id).where(
        OrganisationMember.user_id == world.viewer_a.id)))
    token = token_of(client, f"/organisations/{world.a}/staff")
    response = client.post(f"/organisations/{world.a}/staff/{own}/remove", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/organisations"
    assert client.get(f"/organisations/{world.a}").status_code == 404


def test_owner_asks_to_join_a_territory(client, world, query):
    sign_in(client, world.owner_a.session_id)
    page = client.get(f"/organisations/{world.a}/territories").get_data(as_text=True)
    assert "Ask to join a territory" in page
    response = client.post(f"/organisations/{world.a}/territories", data={
        "territory": "evry", "message": "We repair bikes with teenagers.", "csrf_token": csrf_token_from(page)})
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Pending" in html
    again = client.post(f"/organisations/{world.a}/territories", data={
        "territory": "evry", "csrf_token": csrf_token_from(html)})
    assert again.status_code == 409
    assert "already asked to join this territory" in again.get_data(as_text=True)
    actions = query(lambda: list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action == "territory.membership_requested"))))
    assert actions == ["territory.membership_requested"]


@pytest.mark.parametrize("territory", ["", "no-such-territory"])
def test_request_without_a_known_territory_is_refused(client, world, query, territory):
    sign_in(client, world.owner_a.session_id)
    token = token_of(client, f"/organisations/{world.a}/territories")
    response = client.post(f"/organisations/{world.a}/territories", data={"territory": territory,
                                                                          "csrf_token": token})
    assert response.status_code == 400
    assert "Choose a territory." in response.get_data(as_text=True)
    assert query(lambda: db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "territory.membership_requested"))) == 0


def test_menu_offers_my_organisations_to_signed_in_people(client, world):
    assert "My organisations" not in client.get("/").get_data(as_text=True)
    sign_in(client, world.viewer_a.session_id)
    html = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert 'href="/organisations"' in html
    assert "Coordination" not in html


def test_invitations_are_capped_per_person(client, world, outbox):
    sign_in(client, world.owner_a.session_id)
    token = token_of(client, f"/organisations/{world.a}/staff")
    limit = int(INVITATIONS_PER_HOUR.split()[0])
    for number in range(limit):
        response = client.post(f"/organisations/{world.a}/staff", data={
            "email": f"person{number}@example.org", "role": "viewer", "csrf_token": token})
        assert response.status_code == 302, number
    refused = client.post(f"/organisations/{world.a}/staff", data={
        "email": "one.too.many@example.org", "role": "viewer", "csrf_token": token})
    assert refused.status_code == 429
    assert len(outbox()) == limit
