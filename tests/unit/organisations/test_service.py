"""The organisation services: profiles, slugs, staff, invitations and the rights they enforce."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import replace

import pytest
from flask import current_app
from sqlalchemy import select

from badgehub.audit.models import AuditEvent
from badgehub.db import utcnow
from badgehub.errors import Forbidden, NotFound, ValidationError
from badgehub.extensions import db
from badgehub.organisations.errors import (
    AlreadyMember,
    EmailNotVerified,
    InvalidInvitation,
    InvitationForAnotherAddress,
    LastOwner,
    OrganisationSuspended,
    SlugTaken,
)
from badgehub.organisations.models import Invitation, Organisation, OrganisationMember, Role, Sector
from badgehub.organisations.service import (
    ProfileFields,
    available_slug,
    can_act,
    clean_profile,
    create_organisation,
    members_of,
    organisation_standing,
    organisations_of,
    pending_invitations,
    profile_fields_of,
    require_good_standing,
    require_member,
    update_profile,
)
from badgehub.organisations.staff import (
    accept_invitation,
    change_role,
    find_invitation,
    invite_member,
    remove_member,
    revoke_invitation,
)
from badgehub.territory.service import decide_membership, request_membership
from badgehub.territory.slugs import name_sort_key, slugify


def events(action: str, organisation_id: int | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == action)
    if organisation_id is not None:
        query = query.where(AuditEvent.organisation_id == organisation_id)
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


@pytest.mark.parametrize(("name", "expected"), [
    ("Bibliothèque Albert-Camus", "bibliotheque-albert-camus"),
    ("  Atelier   Vélo & Co. ", "atelier-velo-co"),
    ("ÉCOLE n°2", "ecole-n-2"),
    ("Cœur d’Essonne", "coeur-d-essonne"),
    ("Straße 12", "strasse-12"),
    ("!!!", "organisation"),
    ("Ж", "organisation"),
    ("a" * 30 + " " + "b" * 30, "a" * 30),
])
def test_slugify_keeps_only_lowercase_ascii_words(name, expected):
    assert slugify(name) == expected


def test_creator_becomes_the_only_owner_and_the_creation_is_audited(make_user, make_org):
    owner = make_user()
    organisation = make_org("Atelier Vélo", owner=owner)
    assert organisation.slug == "atelier-velo"
    members = db.session.scalars(select(OrganisationMember).where(
        OrganisationMember.organisation_id == organisation.id)).all()
    assert [(m.user_id, m.role) for m in members] == [(owner.id, Role.OWNER)]
    assert [e.actor_id for e in events("organisation.created", organisation.id)] == [owner.id]


def test_slug_derived_from_a_taken_name_gets_a_number(make_org):
    first, second, third = make_org("Atelier Vélo"), make_org("Atelier vélo"), make_org("ATELIER VELO")
    assert [first.slug, second.slug, third.slug] == ["atelier-velo", "atelier-velo-2", "atelier-velo-3"]


def test_slug_never_takes_a_reserved_page_name(make_org):
    assert make_org("New").slug == "new-org"


def test_unverified_user_cannot_create_an_organisation(make_user):
    with pytest.raises(Forbidden):
        create_organisation(make_user(verified=False), ProfileFields(name="X", type="association", sector="civic"),
                            config=current_app.config)
    assert db.session.scalar(select(Organisation.id)) is None


def test_profile_validation_reports_every_wrong_field_at_once(ctx):
    with pytest.raises(ValidationError) as caught:
        clean_profile(ProfileFields(name="  ", type="castle", sector="astrology", url="javascript:alert(1)",
                                    email="not-an-address", phone="call me", image_url="ftp://x.org/a.png",
                                    country_code="XX", area_id=999_999, description="ok\x00"))
    assert set(caught.value.details["fields"]) == {"name", "type", "sector", "url", "email", "phone", "image_url",
                                                   "country_code", "area_id", "description"}


@pytest.mark.parametrize("url", ["https://", "http://localhost", "https://exa mple.org", "www.example.org",
                                 "https://example.org:99999/", "data:text/html,hi"])
def test_malformed_web_addresses_are_refused(ctx, url):
    with pytest.raises(ValidationError) as caught:
        clean_profile(ProfileFields(name="X", type="association", sector="civic", url=url))
    assert set(caught.value.details["fields"]) == {"url"}


def test_valid_profile_is_trimmed_and_normalised(ctx, make_territory):
    area = make_territory("evry").areas[0]
    values = clean_profile(ProfileFields(
        name="  Atelier  ", type="association", sector="community", url="https://atelier.example.org/",
        email=" Contact@Atelier.example.org ", phone="+33 1 23 45 67 89", country_code="fr", area_id=area.id))
    assert values["name"] == "Atelier"
    assert values["sector"] is Sector.COMMUNITY
    assert values["email"] == "Contact@atelier.example.org"
    assert values["country_code"] == "FR"
    assert values["area_id"] == area.id


def test_owner_edits_profile_and_the_changed_fields_are_audited(make_user, make_org):
    owner = make_user()
    organisation = make_org(owner=owner)
    fields = replace(profile_fields_of(organisation), description="Repairs", locality="Évry")
    update_profile(organisation, owner, fields, slug="velo-evry")
    assert (organisation.slug, organisation.description, organisation.locality) == ("velo-evry", "Repairs", "Évry")
    assert events("organisation.profile_updated", organisation.id)[-1].details == {
        "fields": ["description", "locality", "slug"]}


def test_slug_taken_by_another_organisation_is_refused(make_user, make_org):
    owner = make_user()
    make_org("Maison des jeunes")
    organisation = make_org("Atelier", owner=owner)
    with pytest.raises(SlugTaken):
        update_profile(organisation, owner, profile_fields_of(organisation), slug="maison-des-jeunes")


@pytest.mark.parametrize("slug", ["new", "Bad Slug", "a", "-x-"])
def test_reserved_or_malformed_slug_is_refused(make_user, make_org, slug):
    owner = make_user()
    organisation = make_org(owner=owner)
    with pytest.raises(ValidationError) as caught:
        update_profile(organisation, owner, profile_fields_of(organisation), slug=slug)
    assert caught.value.details == {"field": "slug"}


def test_outsider_gets_not_found_and_low_role_gets_forbidden(make_user, make_org, member_with):
    owner = make_user()
    organisation = make_org(owner=owner)
    viewer = member_with(organisation, owner, "viewer")
    with pytest.raises(NotFound):
        require_member(organisation, make_user())
    with pytest.raises(NotFound):
        require_member(organisation, None)
    with pytest.raises(Forbidden):
        update_profile(organisation, viewer, profile_fields_of(organisation))
    assert require_member(organisation, viewer).role == Role.VIEWER


def test_members_are_listed_owners_first(make_user, make_org, member_with):
    owner = make_user(name="Zoé")
    organisation = make_org(owner=owner)
    viewer = member_with(organisation, owner, "viewer")
    issuer = member_with(organisation, owner, "issuer")
    assert [m.user_id for m in members_of(organisation)] == [owner.id, issuer.id, viewer.id]
    assert [m.organisation.slug for m in organisations_of(viewer)] == [organisation.slug]


def test_invitation_token_is_only_stored_as_its_hash(make_user, make_org):
    owner = make_user()
    organisation = make_org(owner=owner)
    invitation, token = invite_member(organisation, owner, "New.Person@Example.org", "issuer")
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert len(token) >= 40
    stored = db.session.execute(select(Invitation.__table__)).one()
    assert token not in [str(value) for value in stored]
    assert events("organisation.member_invited", organisation.id)[0].details == {"role": "issuer"}


def test_invited_address_in_another_case_accepts_and_joins_with_the_role(make_user, make_org):
    owner = make_user()
    organisation = make_org(owner=owner)
    _, token = invite_member(organisation, owner, "new.person@example.org", "issuer")
    invitee = make_user("New.Person@EXAMPLE.org")
    member = accept_invitation(token, invitee)
    assert (member.user_id, member.role) == (invitee.id, Role.ISSUER)
    assert [e.actor_id for e in events("organisation.invitation_accepted", organisation.id)] == [invitee.id]


def test_invitation_works_only_once(make_user, make_org):
    owner = make_user()
    organisation = make_org(owner=owner)
    _, token = invite_member(organisation, owner, "a@example.org", "viewer")
    invitee = make_user("a@example.org")
    accept_invitation(token, invitee)
    with pytest.raises(InvalidInvitation):
        accept_invitation(token, invitee)


def test_invitation_for_another_address_is_refused(make_user, make_org):
    owner = make_user()
    organisation = make_org(owner=owner)
    _, token = invite_member(organisation, owner, "a@example.org", "owner")
    with pytest.raises(InvitationForAnotherAddress):
        accept_invitation(token, make_user("b@example.org"))
    assert find_invitation(token).accepted_at is None


def test_invitation_needs_a_verified_address(make_user, make_org):
    owner = make_user()
    organisation = make_org(owner=owner)
    _, token = invite_member(organisation, owner, "a@example.org", "viewer")
    with pytest.raises(EmailNotVerified):
        accept_invitation(token, make_user("a@example.org", verified=False))


def test_expired_invitation_is_refused(make_user, make_org):
    owner = make_user()
    organisation = make_org(owner=owner)
    invitation, token = invite_member(organisation, owner, "a@example.org", "viewer")
    invitee = make_user("a@example.org")
    with pytest.raises(InvalidInvitation):
        accept_invitation(token, invitee, now=invitation.expires_at + dt.timedelta(seconds=1))
    assert accept_invitation(token, invitee, now=invitation.expires_at - dt.timedelta(seconds=1))


def test_revoked_invitation_is_refused_and_unknown_tokens_too(make_user, make_org):
    owner = make_user()
    organisation = make_org(owner=owner)
    invitation, token = invite_member(organisation, owner, "a@example.org", "viewer")
    revoke_invitation(organisation, owner, invitation.id)
    with pytest.raises(InvalidInvitation):
        find_invitation(token)
    with pytest.raises(InvalidInvitation):
        find_invitation("not-a-token")
    assert events("organisation.invitation_revoked", organisation.id)


def test_inviting_the_same_address_again_withdraws_the_first_link(make_user, make_org):
    owner = make_user()
    organisation = make_org(owner=owner)
    _, first = invite_member(organisation, owner, "a@example.org", "viewer")
    _, second = invite_member(organisation, owner, "A@example.org", "issuer")
    with pytest.raises(InvalidInvitation):
        find_invitation(first)
    assert [i.role for i in pending_invitations(organisation)] == [Role.ISSUER]
    assert accept_invitation(second, make_user("a@example.org")).role == Role.ISSUER


def test_inviting_a_current_member_or_a_bad_address_is_refused(make_user, make_org):
    owner = make_user("owner@example.org")
    organisation = make_org(owner=owner)
    with pytest.raises(AlreadyMember):
        invite_member(organisation, owner, "OWNER@example.org", "viewer")
    with pytest.raises(ValidationError) as caught:
        invite_member(organisation, owner, "nobody", "viewer")
    assert caught.value.details == {"field": "email"}
    with pytest.raises(ValidationError):
        invite_member(organisation, owner, "x@example.org", "emperor")
    assert pending_invitations(organisation) == []


def test_revoking_another_organisations_invitation_is_not_found(make_user, make_org):
    owner_a, owner_b = make_user(), make_user()
    org_a, org_b = make_org("A", owner=owner_a), make_org("B", owner=owner_b)
    invitation, _ = invite_member(org_b, owner_b, "x@example.org", "viewer")
    with pytest.raises(NotFound):
        revoke_invitation(org_a, owner_a, invitation.id)
    assert invitation.revoked_at is None


def test_last_owner_can_be_neither_demoted_nor_removed(make_user, make_org):
    owner = make_user()
    organisation = make_org(owner=owner)
    own = require_member(organisation, owner)
    with pytest.raises(LastOwner):
        change_role(organisation, owner, own.id, "viewer")
    with pytest.raises(LastOwner):
        remove_member(organisation, owner, own.id)
    assert require_member(organisation, owner).role == Role.OWNER


def test_an_owner_can_step_down_once_another_owner_exists(make_user, make_org, member_with):
    owner = make_user()
    organisation = make_org(owner=owner)
    second = member_with(organisation, owner, "viewer")
    change_role(organisation, owner, require_member(organisation, second).id, "owner")
    change_role(organisation, owner, require_member(organisation, owner).id, "viewer")
    assert require_member(organisation, owner).role == Role.VIEWER
    assert [e.details for e in events("organisation.member_role_changed", organisation.id)] == [
        {"from": "viewer", "to": "owner"}, {"from": "owner", "to": "viewer"}]


def test_viewer_cannot_manage_staff_but_can_leave(make_user, make_org, member_with):
    owner = make_user()
    organisation = make_org(owner=owner)
    viewer = member_with(organisation, owner, "viewer")
    issuer = member_with(organisation, owner, "issuer")
    with pytest.raises(Forbidden):
        invite_member(organisation, viewer, "x@example.org", "owner")
    with pytest.raises(Forbidden):
        change_role(organisation, viewer, require_member(organisation, viewer).id, "owner")
    with pytest.raises(Forbidden):
        remove_member(organisation, viewer, require_member(organisation, issuer).id)
    remove_member(organisation, viewer, require_member(organisation, viewer).id)
    with pytest.raises(NotFound):
        require_member(organisation, viewer)
    assert events("organisation.member_removed", organisation.id)[-1].subject_id == str(viewer.id)


def test_member_of_another_organisation_is_not_found(make_user, make_org, member_with):
    owner_a, owner_b = make_user(), make_user()
    org_a, org_b = make_org("A", owner=owner_a), make_org("B", owner=owner_b)
    their_viewer = member_with(org_b, owner_b, "viewer")
    target = require_member(org_b, their_viewer).id
    with pytest.raises(NotFound):
        change_role(org_a, owner_a, target, "owner")
    with pytest.raises(NotFound):
        remove_member(org_a, owner_a, target)
    with pytest.raises(NotFound):
        change_role(org_b, owner_a, target, "owner")


def test_suspended_organisation_loses_the_rights_to_publish_and_grant(make_user, make_org, make_territory,
                                                                      member_with, suspend):
    owner = make_user()
    organisation = make_org(owner=owner)
    viewer = member_with(organisation, owner, "viewer")
    _, token = invite_member(organisation, owner, "late@example.org", "issuer")
    territory = make_territory("evry")
    suspend(organisation, territory, owner)

    assert not can_act(organisation)
    with pytest.raises(OrganisationSuspended) as caught:
        require_good_standing(organisation)
    assert caught.value.http_status == 403
    assert "Evry" in str(caught.value.message)
    with pytest.raises(OrganisationSuspended):
        update_profile(organisation, owner, profile_fields_of(organisation))
    with pytest.raises(OrganisationSuspended):
        invite_member(organisation, owner, "x@example.org", "viewer")
    with pytest.raises(OrganisationSuspended):
        change_role(organisation, owner, require_member(organisation, viewer).id, "issuer")
    with pytest.raises(OrganisationSuspended):
        accept_invitation(token, make_user("late@example.org"))
    with pytest.raises(OrganisationSuspended):
        request_membership(organisation, make_territory("lyon"), owner, "")


def test_suspended_organisation_may_still_reduce_rights(make_user, make_org, make_territory, member_with, suspend):
    owner = make_user()
    organisation = make_org(owner=owner)
    issuer = member_with(organisation, owner, "issuer")
    invitation, _ = invite_member(organisation, owner, "x@example.org", "viewer")
    suspend(organisation, make_territory("evry"), owner)
    change_role(organisation, owner, require_member(organisation, issuer).id, "viewer")
    revoke_invitation(organisation, owner, invitation.id)
    remove_member(organisation, owner, require_member(organisation, issuer).id)
    assert [m.user_id for m in members_of(organisation)] == [owner.id]


def test_reinstated_organisation_regains_its_rights(make_user, make_org, make_territory, coordinator_of, suspend):
    owner = make_user()
    organisation = make_org(owner=owner)
    territory = make_territory("evry")
    membership = suspend(organisation, territory, owner)
    decide_membership(membership, "reinstate", coordinator_of(territory))
    assert can_act(organisation)
    update_profile(organisation, owner, replace(profile_fields_of(organisation), description="Back"))
    assert organisation.description == "Back"


def test_standing_lists_approved_suspended_and_pending_territories(make_user, make_org, make_territory,
                                                                   coordinator_of, suspend):
    owner = make_user()
    organisation = make_org(owner=owner)
    evry, lyon, nice = make_territory("evry"), make_territory("lyon"), make_territory("nice")
    approved = request_membership(organisation, lyon, owner)
    decide_membership(approved, "approve", coordinator_of(lyon))
    request_membership(organisation, nice, owner)
    suspend(organisation, evry, owner)
    standing = organisation_standing(organisation)
    assert [m.territory.slug for m in standing.approved] == ["lyon"]
    assert [m.territory.slug for m in standing.suspended] == ["evry"]
    assert [m.territory.slug for m in standing.pending] == ["nice"]
    assert [m.territory.slug for m in standing.public] == ["evry", "lyon"]


def test_available_slug_skips_every_taken_number(make_org):
    make_org("Club")
    make_org("Club")
    make_org("Club de foot")
    assert available_slug("club") == "club-3"


def test_invitation_lifetime_is_a_week(make_user, make_org):
    owner = make_user()
    organisation = make_org(owner=owner)
    moment = utcnow()
    invitation, _ = invite_member(organisation, owner, "x@example.org", "viewer", now=moment)
    assert invitation.expires_at - moment == dt.timedelta(days=7)


def test_names_sort_alphabetically_whatever_their_accents():
    names = ["Menuiserie", "Médiathèque", "atelier", "Évry", "Zèbre", "Œuvre"]
    assert sorted(names, key=name_sort_key) == ["atelier", "Évry", "Médiathèque", "Menuiserie", "Œuvre", "Zèbre"]


def test_new_organisation_gets_its_signing_keys_in_the_same_transaction(ctx):
    from badgehub.accounts.service import create_user
    from badgehub.keys.models import KeyAlgorithm, KeyState
    from badgehub.keys.service import published_keys
    from badgehub.organisations.service import ProfileFields, create_organisation

    owner = create_user("keys-owner@example.org", name="Owner", verified=True)
    organisation = create_organisation(owner, ProfileFields(name="Atelier", type="association", sector="community"),
                                       config=current_app.config)
    keys = published_keys(organisation)
    assert sorted(k.algorithm for k in keys) == sorted([KeyAlgorithm.ED25519, KeyAlgorithm.RSA_2048])
    assert {k.state for k in keys} == {KeyState.ACTIVE}
