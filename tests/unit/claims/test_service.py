"""Claim campaign rules: creation, the window and the cap, one claim per address, one-time links, erasure."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import current_app
from sqlalchemy import func, select

from badgehub.accounts.errors import InvalidEmail
from badgehub.achievements import service as achievements
from badgehub.achievements.errors import AchievementArchived
from badgehub.audit.models import AuditEvent
from badgehub.claims import service as claims
from badgehub.claims.errors import (
    CampaignAlreadyClosed,
    CampaignClosed,
    CampaignFull,
    CampaignNotFound,
    CampaignNotOpen,
    CampaignPaused,
    ClaimLinkExpired,
    InvalidClaimLink,
)
from badgehub.claims.models import Claim, ClaimState
from badgehub.db import utcnow
from badgehub.errors import ValidationError
from badgehub.extensions import db
from badgehub.issuing.errors import WrongOrganisation
from badgehub.issuing.models import CredentialSource, IssuedCredential
from badgehub.organisations.errors import OrganisationSuspended
from badgehub.territory.service import decide_membership, memberships_of

HOUR = dt.timedelta(hours=1)


def credentials_count() -> int:
    return db.session.scalar(select(func.count(IssuedCredential.id))) or 0


def fields_errors(excinfo: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return set(excinfo.value.details["fields"])


# ------------------------------------------------------------------------------------------------ creating


def test_a_new_campaign_gets_an_unambiguous_short_code_and_an_audit_event(campaign, world):
    created = campaign(max_claims=40)
    assert len(created.short_code) == claims.SHORT_CODE_LENGTH
    assert not set(created.short_code) & set("0O1IL")
    assert created.claimed_count == 0 and created.max_claims == 40
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "claim_campaign.created")).one()
    assert event.subject_id == str(created.id) and event.actor_id == world.issuer_a.id
    assert event.details["short_code"] == created.short_code


def test_the_title_defaults_to_the_badge_name(campaign):
    assert campaign(title="  ").title == "Réparer une crevaison"


@pytest.mark.parametrize(("opens", "closes", "field"), [
    (-2, -1, "closes_at"),  # already over
    (5, 4, "closes_at"),  # ends before it starts
    (0, 24 * 400, "closes_at"),  # longer than a year
])
def test_the_window_must_be_in_order_in_the_future_and_at_most_a_year(campaign, opens, closes, field):
    now = utcnow()
    with pytest.raises(ValidationError) as excinfo:
        campaign(opens_at=now + opens * HOUR, closes_at=now + closes * HOUR)
    assert fields_errors(excinfo) == {field}


@pytest.mark.parametrize("cap", [0, -3, claims.MAX_CAP + 1])
def test_the_cap_is_at_least_one(campaign, cap):
    with pytest.raises(ValidationError) as excinfo:
        campaign(max_claims=cap)
    assert fields_errors(excinfo) == {"max_claims"}


def test_a_suspended_organisation_cannot_create_a_campaign(campaign, world):
    decide_membership(memberships_of(world.a)[0], "suspend", world.coordinator, "Badges sans preuves")
    with pytest.raises(OrganisationSuspended):
        campaign()


def test_a_campaign_offers_only_the_organisations_own_live_badges(campaign, world):
    with pytest.raises(WrongOrganisation):
        campaign(achievement=world.reading)
    achievements.archive_achievement(world.workshop, world.owner_a)
    with pytest.raises(AchievementArchived):
        campaign(achievement=world.workshop)


def test_closing_early_is_recorded_and_happens_once(campaign, world):
    created = campaign()
    claims.close_campaign(created, world.owner_a)
    assert claims.campaign_status(created) is claims.CampaignStatus.CLOSED
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "claim_campaign.closed")) == 1
    with pytest.raises(CampaignAlreadyClosed):
        claims.close_campaign(created, world.owner_a)


# ----------------------------------------------------------------------------------------------- the code


@pytest.mark.parametrize("typed", ["abc234", " ABC-234 ", "abc 234", "ABC.234"])
def test_a_short_code_is_found_whatever_its_case_spaces_or_dashes(typed):
    assert claims.normalise_short_code(typed) == "ABC234"


@pytest.mark.parametrize("typed", ["", "ABC23", "ABC2345", "ABC10O", "ABCÉ23", "x" * 500])
def test_what_cannot_be_a_short_code_finds_nothing(ctx, typed):
    assert claims.normalise_short_code(typed) is None
    with pytest.raises(CampaignNotFound):
        claims.find_campaign(typed)


def test_find_campaign_by_typed_code(campaign):
    created = campaign()
    assert claims.find_campaign(created.short_code.lower()).id == created.id


# ----------------------------------------------------------------------------------------------- claiming


def test_the_full_flow_issues_one_claim_credential(campaign, world):
    created = campaign()
    asked = claims.request_claim(created, "Lea@Example.net", "Léa Martin", locale="fr")
    assert asked.token and not asked.already_claimed
    assert claims.check_claim_link(created.short_code, asked.token).state is ClaimState.PENDING
    done = claims.confirm_claim(created.short_code, asked.token, config=current_app.config)
    assert done.issued_now and done.credential is not None
    credential = done.credential
    assert credential.source is CredentialSource.CLAIM and credential.batch_id is None
    assert credential.recipient_email_key == "lea@example.net" and credential.recipient_name == "Léa Martin"
    assert credential.idempotency_key == f"claim:{created.id}:lea@example.net"
    assert credential.achievement_id == world.repair.id
    assert done.claim.state is ClaimState.CONFIRMED and done.claim.credential_id == credential.id
    assert created.claimed_count == 1


def test_one_claim_per_address_whatever_its_case(campaign):
    created = campaign()
    first = claims.request_claim(created, "lea@example.net")
    again = claims.request_claim(created, "  LEA@example.NET ", "Léa")
    assert first.claim.id == again.claim.id and again.token != first.token
    assert db.session.scalar(select(func.count(Claim.id))) == 1
    # Asking again voids the earlier link.
    with pytest.raises(InvalidClaimLink):
        claims.check_claim_link(created.short_code, first.token)
    claims.confirm_claim(created.short_code, again.token, config=current_app.config)
    after = claims.request_claim(created, "Lea@example.net")
    assert after.already_claimed and after.claim.id == first.claim.id
    assert credentials_count() == 1


def test_a_used_link_shows_the_same_credential_and_never_issues_twice(campaign):
    created = campaign()
    asked = claims.request_claim(created, "lea@example.net")
    first = claims.confirm_claim(created.short_code, asked.token, config=current_app.config)
    second = claims.confirm_claim(created.short_code, asked.token, config=current_app.config)
    assert not second.issued_now and second.credential.id == first.credential.id
    assert credentials_count() == 1


def test_an_expired_link_is_refused_and_a_new_one_works(campaign):
    created = campaign(opens_at=utcnow() - dt.timedelta(days=3))
    asked = claims.request_claim(created, "lea@example.net", now=utcnow() - claims.CLAIM_LINK_LIFETIME - HOUR)
    with pytest.raises(ClaimLinkExpired):
        claims.check_claim_link(created.short_code, asked.token)
    with pytest.raises(ClaimLinkExpired):
        claims.confirm_claim(created.short_code, asked.token, config=current_app.config)
    fresh = claims.request_claim(created, "lea@example.net")
    assert claims.confirm_claim(created.short_code, fresh.token, config=current_app.config).issued_now


@pytest.mark.parametrize("token", ["", "nope", "x" * 1000])
def test_an_unknown_link_is_refused(campaign, token):
    created = campaign()
    with pytest.raises(InvalidClaimLink):
        claims.confirm_claim(created.short_code, token, config=current_app.config)


def test_a_link_works_only_with_its_own_campaign_code(campaign):
    first, second = campaign(), campaign()
    asked = claims.request_claim(first, "lea@example.net")
    with pytest.raises(InvalidClaimLink):
        claims.confirm_claim(second.short_code, asked.token, config=current_app.config)
    assert credentials_count() == 0


def test_a_bad_address_is_refused(campaign):
    with pytest.raises(InvalidEmail):
        claims.request_claim(campaign(), "not an address")


def test_nobody_claims_before_the_window_or_after_it(campaign):
    now = utcnow()
    later = campaign(opens_at=now + HOUR, closes_at=now + 3 * HOUR)
    with pytest.raises(CampaignNotOpen):
        claims.request_claim(later, "lea@example.net")
    assert claims.campaign_status(later) is claims.CampaignStatus.SCHEDULED
    with pytest.raises(CampaignClosed):
        claims.request_claim(later, "lea@example.net", now=now + 4 * HOUR)
    assert claims.campaign_status(later, now + 4 * HOUR) is claims.CampaignStatus.ENDED


def test_a_link_sent_during_the_window_still_works_just_after_it(campaign):
    now = utcnow()
    created = campaign(opens_at=now - HOUR, closes_at=now + HOUR)
    asked = claims.request_claim(created, "lea@example.net")
    assert claims.confirm_claim(created.short_code, asked.token, now=now + 2 * HOUR,
                                config=current_app.config).issued_now


def test_closing_early_stops_requests_and_links_already_sent(campaign, world):
    created = campaign()
    asked = claims.request_claim(created, "lea@example.net")
    claims.close_campaign(created, world.issuer_a)
    with pytest.raises(CampaignClosed):
        claims.request_claim(created, "hugo@example.net")
    with pytest.raises(CampaignClosed):
        claims.confirm_claim(created.short_code, asked.token, config=current_app.config)
    assert credentials_count() == 0


def test_the_cap_counts_confirmations_not_requests(campaign):
    created = campaign(max_claims=2)
    asked = [claims.request_claim(created, f"person{n}@example.net") for n in range(3)]
    for request in asked[:2]:
        claims.confirm_claim(created.short_code, request.token, config=current_app.config)
    with pytest.raises(CampaignFull):
        claims.confirm_claim(created.short_code, asked[2].token, config=current_app.config)
    assert claims.campaign_status(created) is claims.CampaignStatus.FULL
    with pytest.raises(CampaignFull):
        claims.request_claim(created, "late@example.net")
    assert credentials_count() == 2 and created.claimed_count == 2


def test_a_confirmation_refused_by_issuing_leaves_the_claim_pending(campaign, world):
    created = campaign()
    asked = claims.request_claim(created, "lea@example.net")
    decide_membership(memberships_of(world.a)[0], "suspend", world.coordinator, "Badges sans preuves")
    with pytest.raises(OrganisationSuspended):
        claims.confirm_claim(created.short_code, asked.token, config=current_app.config)
    assert asked.claim.state is ClaimState.PENDING and created.claimed_count == 0
    assert credentials_count() == 0


def test_staff_lists_count_pending_claims(campaign):
    created = campaign()
    for n in range(3):
        claims.request_claim(created, f"person{n}@example.net")
    claims.confirm_claim(created.short_code, claims.request_claim(created, "done@example.net").token,
                         config=current_app.config)
    assert claims.pending_counts([created]) == {created.id: 3}
    listed = claims.claims_of(created)
    assert [claim.state for claim in listed] == [ClaimState.CONFIRMED] + [ClaimState.PENDING] * 3


# ----------------------------------------------------------------------------------------------- erasure


def test_erasure_blanks_confirmed_claims_and_deletes_pending_ones(campaign):
    first, second = campaign(max_claims=5), campaign()
    done = claims.confirm_claim(first.short_code, claims.request_claim(first, "Lea@example.net", "Léa").token,
                                config=current_app.config)
    claims.request_claim(second, "lea@example.net", "Léa")
    claims.request_claim(second, "hugo@example.net", "Hugo")
    assert claims.erase_personal_data({"lea@example.net"}) == 2
    rows = db.session.scalars(select(Claim).order_by(Claim.id)).all()
    assert [(row.email, row.name) for row in rows] == [("", ""), ("hugo@example.net", "Hugo")]
    assert rows[0].id == done.claim.id and "@" not in rows[0].email_key and rows[0].token_hash is None
    # The erased claim still counts towards the cap, and the address may claim elsewhere again.
    assert first.claimed_count == 1
    assert claims.request_claim(second, "lea@example.net").token
    assert claims.erase_personal_data(set()) == 0


def test_purge_deletes_only_pending_claims_that_can_no_longer_be_confirmed(campaign, world):
    now = utcnow()
    running = campaign(closes_at=now + dt.timedelta(days=3))
    ending = campaign(opens_at=now - 3 * HOUR, closes_at=now + HOUR)
    closed = campaign()
    claims.request_claim(running, "waiting@example.net")
    claims.confirm_claim(ending.short_code, claims.request_claim(ending, "done@example.net").token,
                         config=current_app.config)
    claims.request_claim(ending, "late@example.net")
    claims.request_claim(closed, "stopped@example.net")
    claims.close_campaign(closed, world.owner_a)
    assert claims.purge_stale_claims(now=now) == 1  # the closed campaign's
    # After the end of its window, a link still works until it expires; then its claim goes.
    assert claims.purge_stale_claims(now=now + 2 * HOUR) == 0
    assert claims.purge_stale_claims(now=now + claims.CLAIM_LINK_LIFETIME + HOUR) == 1
    left = db.session.scalars(select(Claim.email).order_by(Claim.email)).all()
    assert left == ["done@example.net", "waiting@example.net"]


def test_a_suspended_organisation_or_an_archived_badge_pauses_the_campaign(campaign, world):
    created = campaign()
    membership = memberships_of(world.a)[0]
    decide_membership(membership, "suspend", world.coordinator, "Badges sans preuves")
    assert claims.campaign_status(created) is claims.CampaignStatus.PAUSED
    with pytest.raises(CampaignPaused):
        claims.request_claim(created, "lea@example.net")
    decide_membership(membership, "reinstate", world.coordinator)
    assert claims.campaign_status(created) is claims.CampaignStatus.OPEN
    achievements.archive_achievement(world.repair, world.owner_a)
    assert claims.campaign_status(created) is claims.CampaignStatus.PAUSED
