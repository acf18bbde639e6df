"""The registry of trusted issuers: requests, coordinators' decisions, who may take them, what they record."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from badgehub.audit.models import AuditEvent
from badgehub.db import utcnow
from badgehub.errors import Conflict, Forbidden, ValidationError
from badgehub.extensions import db
from badgehub.organisations.errors import OrganisationSuspended
from badgehub.territory.errors import DecisionNotAllowed, MembershipExists, NotCoordinator, ReasonRequired
from badgehub.territory.models import MembershipStatus, TerritoryMembership
from badgehub.territory.service import (
    Decision,
    allowed_decisions,
    approved_members_by_sector,
    coordinated_territories,
    coordinates_anything,
    create_territory,
    decide_membership,
    decision_history,
    get_membership_in,
    is_coordinator,
    memberships_for_review,
    request_membership,
    require_coordinator,
    territories_open_to,
    validate_slug,
)


def fresh_membership(membership_id: int) -> TerritoryMembership:
    db.session.expire_all()
    return db.session.scalars(select(TerritoryMembership).where(TerritoryMembership.id == membership_id)).one()


@pytest.mark.parametrize(("status", "decisions"), [
    (MembershipStatus.PENDING, (Decision.APPROVE, Decision.REJECT)),
    (MembershipStatus.APPROVED, (Decision.SUSPEND, Decision.REMOVE)),
    (MembershipStatus.SUSPENDED, (Decision.REINSTATE, Decision.REMOVE)),
    (MembershipStatus.REJECTED, ()),
    (MembershipStatus.REMOVED, ()),
])
def test_each_status_offers_only_the_decisions_that_apply(status, decisions):
    assert allowed_decisions(status) == decisions


def test_owner_asks_to_join_and_the_request_is_pending_and_audited(make_user, make_org, make_territory):
    owner = make_user()
    organisation, territory = make_org(owner=owner), make_territory("evry")
    membership = request_membership(organisation, territory, owner, "  We run repair workshops.  ")
    row = fresh_membership(membership.id)
    assert (row.status, row.message, row.requested_by_id) == (MembershipStatus.PENDING, "We run repair workshops.",
                                                              owner.id)
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "territory.membership_requested"))
    assert (event.actor_id, event.organisation_id, event.territory_id) == (owner.id, organisation.id, territory.id)


def test_asking_twice_is_refused(make_user, make_org, make_territory):
    owner = make_user()
    organisation, territory = make_org(owner=owner), make_territory("evry")
    request_membership(organisation, territory, owner)
    with pytest.raises(MembershipExists):
        request_membership(organisation, territory, owner)


def test_only_owners_ask_to_join(make_user, make_org, make_territory, member_with):
    owner = make_user()
    organisation, territory = make_org(owner=owner), make_territory("evry")
    issuer = member_with(organisation, owner, "issuer")
    with pytest.raises(Forbidden):
        request_membership(organisation, territory, issuer)
    assert territories_open_to(organisation) == [territory]


def test_request_message_is_limited(make_user, make_org, make_territory):
    owner = make_user()
    with pytest.raises(ValidationError) as caught:
        request_membership(make_org(owner=owner), make_territory("evry"), owner, "x" * 2001)
    assert caught.value.details == {"field": "message"}


def test_coordinator_approves_and_member_since_is_set(make_user, make_org, make_territory, coordinator_of):
    owner = make_user()
    organisation, territory = make_org(owner=owner), make_territory("evry")
    membership = request_membership(organisation, territory, owner)
    moment = utcnow()
    decide_membership(membership, Decision.APPROVE, coordinator_of(territory), now=moment)
    row = fresh_membership(membership.id)
    assert (row.status, row.member_since, row.decided_at) == (MembershipStatus.APPROVED, moment, moment)
    assert row.decided_by_id == coordinator_of(territory).id
    assert territories_open_to(organisation) == []


@pytest.mark.parametrize(("steps", "decision"), [
    ((), Decision.REJECT), (("approve",), Decision.SUSPEND), (("approve",), Decision.REMOVE),
])
def test_reject_suspend_and_remove_need_a_reason(make_user, make_org, make_territory, coordinator_of, steps,
                                                 decision):
    owner = make_user()
    organisation, territory = make_org(owner=owner), make_territory("evry")
    coordinator = coordinator_of(territory)
    membership = request_membership(organisation, territory, owner)
    for step in steps:
        decide_membership(membership, step, coordinator)
    before = fresh_membership(membership.id).status
    with pytest.raises(ReasonRequired):
        decide_membership(membership, decision, coordinator, "   ")
    assert fresh_membership(membership.id).status == before


def test_a_non_coordinator_cannot_decide(make_user, make_org, make_territory):
    owner = make_user()
    organisation, territory = make_org(owner=owner), make_territory("evry")
    membership = request_membership(organisation, territory, owner)
    for outsider in (owner, make_user()):
        with pytest.raises(NotCoordinator):
            decide_membership(membership, "approve", outsider)
    assert fresh_membership(membership.id).status == MembershipStatus.PENDING


def test_a_coordinator_of_one_territory_cannot_decide_in_another(make_user, make_org, make_territory,
                                                                 coordinator_of):
    owner = make_user()
    organisation = make_org(owner=owner)
    evry, lyon = make_territory("evry"), make_territory("lyon")
    membership = request_membership(organisation, lyon, owner)
    with pytest.raises(NotCoordinator):
        decide_membership(membership, "approve", coordinator_of(evry))
    assert not is_coordinator(lyon, coordinator_of(evry))
    assert [t.slug for t in coordinated_territories(coordinator_of(evry))] == ["evry"]


def test_platform_admin_may_take_coordinator_decisions_everywhere(make_user, make_org, make_territory):
    owner, admin = make_user(), make_user(admin=True)
    organisation, territory = make_org(owner=owner), make_territory("evry")
    make_territory("lyon")
    membership = request_membership(organisation, territory, owner)
    require_coordinator(territory, admin)
    decide_membership(membership, "approve", admin)
    assert fresh_membership(membership.id).status == MembershipStatus.APPROVED
    assert [t.slug for t in coordinated_territories(admin)] == ["evry", "lyon"]
    assert coordinates_anything(admin) and not coordinates_anything(owner)


def test_a_decision_that_no_longer_applies_is_refused(make_user, make_org, make_territory, coordinator_of):
    owner = make_user()
    organisation, territory = make_org(owner=owner), make_territory("evry")
    coordinator = coordinator_of(territory)
    membership = request_membership(organisation, territory, owner)
    decide_membership(membership, "approve", coordinator)
    with pytest.raises(DecisionNotAllowed):
        decide_membership(membership, "approve", coordinator)
    with pytest.raises(DecisionNotAllowed):
        decide_membership(membership, "reinstate", coordinator)
    with pytest.raises(ValidationError):
        decide_membership(membership, "banish", coordinator, "no")


def test_a_stale_copy_cannot_override_a_decision_taken_meanwhile(make_user, make_org, make_territory,
                                                                 coordinator_of):
    owner = make_user()
    organisation, territory = make_org(owner=owner), make_territory("evry")
    coordinator = coordinator_of(territory)
    membership = request_membership(organisation, territory, owner)
    db.session.commit()
    # Another coordinator rejects through a raw UPDATE, behind this session's back.
    db.session.execute(TerritoryMembership.__table__.update().where(TerritoryMembership.id == membership.id)
                       .values(status="rejected"))
    with pytest.raises(DecisionNotAllowed):
        decide_membership(membership, "approve", coordinator)


def test_suspension_reinstatement_and_removal_keep_a_full_history(make_user, make_org, make_territory,
                                                                  coordinator_of):
    owner = make_user()
    organisation, territory = make_org(owner=owner), make_territory("evry")
    coordinator = coordinator_of(territory)
    membership = request_membership(organisation, territory, owner)
    approved_at = utcnow() - dt.timedelta(days=30)
    decide_membership(membership, "approve", coordinator, now=approved_at)
    decide_membership(membership, "suspend", coordinator, "Badges without evidence")
    assert fresh_membership(membership.id).reason == "Badges without evidence"
    decide_membership(membership, "reinstate", coordinator, "Evidence supplied")
    assert fresh_membership(membership.id).member_since == approved_at
    decide_membership(membership, "remove", coordinator, "Left the territory")
    history = decision_history(territory)
    assert [e.action for e in history] == [
        "territory.membership_removed", "territory.membership_reinstated", "territory.membership_suspended",
        "territory.membership_approved", "territory.membership_requested"]
    assert history[0].details == {"from": "approved", "to": "removed", "reason": "Left the territory"}
    assert history[2].details["reason"] == "Badges without evidence"
    assert {e.actor_id for e in history[:4]} == {coordinator.id}


def test_rejected_or_removed_organisation_may_ask_again_and_starts_over(make_user, make_org, make_territory,
                                                                        coordinator_of):
    owner = make_user()
    organisation, territory = make_org(owner=owner), make_territory("evry")
    coordinator = coordinator_of(territory)
    membership = request_membership(organisation, territory, owner)
    decide_membership(membership, "reject", coordinator, "Incomplete")
    again = request_membership(organisation, territory, owner, "Completed now")
    assert again.id == membership.id
    row = fresh_membership(membership.id)
    assert (row.status, row.reason, row.decided_at) == (MembershipStatus.PENDING, "", None)
    first = utcnow() - dt.timedelta(days=10)
    decide_membership(row, "approve", coordinator, now=first)
    decide_membership(row, "remove", coordinator, "Inactive")
    request_membership(organisation, territory, owner)
    decide_membership(row, "approve", coordinator)
    assert fresh_membership(membership.id).member_since > first


def test_public_registry_lists_only_approved_members_grouped_by_sector(make_user, make_org, make_territory,
                                                                       coordinator_of):
    territory = make_territory("evry")
    coordinator = coordinator_of(territory)
    placed = {}
    for name, sector, steps in [("Zèbre", "community", ["approve"]), ("Atelier", "community", ["approve"]),
                                ("Mairie", "public_services", ["approve"]), ("Pending", "civic", []),
                                ("Suspended", "economic", ["approve", "suspend"]),
                                ("Rejected", "education", ["reject"])]:
        owner = make_user()
        organisation = make_org(name, owner=owner, sector=sector)
        membership = request_membership(organisation, territory, owner)
        for step in steps:
            decide_membership(membership, step, coordinator, "because")
        placed[name] = organisation
    grouped = approved_members_by_sector(territory)
    assert [(sector.value, [o.name for o in orgs]) for sector, orgs in grouped] == [
        ("public_services", ["Mairie"]), ("community", ["Atelier", "Zèbre"])]
    review = memberships_for_review(territory)
    assert [m.organisation.name for m in review.pending] == ["Pending"]
    assert [m.organisation.name for m in review.current] == ["Atelier", "Mairie", "Suspended", "Zèbre"]
    assert [m.organisation.name for m in review.past] == ["Rejected"]


def test_membership_of_another_territory_is_not_found(make_user, make_org, make_territory):
    from badgehub.errors import NotFound

    owner = make_user()
    evry, lyon = make_territory("evry"), make_territory("lyon")
    membership = request_membership(make_org(owner=owner), lyon, owner)
    with pytest.raises(NotFound):
        get_membership_in(evry, membership.id)
    assert get_membership_in(lyon, membership.id).id == membership.id


def test_suspended_organisation_cannot_ask_to_join_another_territory(make_user, make_org, make_territory,
                                                                     coordinator_of):
    owner = make_user()
    organisation, evry, lyon = make_org(owner=owner), make_territory("evry"), make_territory("lyon")
    membership = request_membership(organisation, evry, owner)
    decide_membership(membership, "approve", coordinator_of(evry))
    decide_membership(membership, "suspend", coordinator_of(evry), "Audit")
    with pytest.raises(OrganisationSuspended):
        request_membership(organisation, lyon, owner)


def test_existing_territory_functions_keep_their_behaviour(ctx):
    create_territory(name="Évry", slug="evry")
    with pytest.raises(Conflict):
        create_territory(name="Évry again", slug="evry")
    with pytest.raises(ValidationError):
        validate_slug("Not A Slug")
    assert validate_slug(" ok-slug ") == "ok-slug"
