"""Demo claim campaign: open, with one confirmed and one pending claim, seeded once."""

from __future__ import annotations

from sqlalchemy import func, select

from badgehub.claims import service as claims
from badgehub.claims.demo import CAP, TITLE, seed_demo_claims
from badgehub.claims.models import Claim, ClaimCampaign, ClaimState
from badgehub.extensions import db
from badgehub.issuing.models import CredentialSource, IssuedCredential


def test_the_demo_campaign_is_open_and_has_a_confirmed_and_a_pending_claim(world):
    campaign = seed_demo_claims(world.territory.slug)
    assert campaign is not None and campaign.title == TITLE and campaign.max_claims == CAP
    assert campaign.organisation_id == world.a.id
    assert claims.campaign_status(campaign) is claims.CampaignStatus.OPEN
    states = sorted(claim.state for claim in db.session.scalars(select(Claim)))
    assert states == [ClaimState.CONFIRMED, ClaimState.PENDING]
    credential = db.session.scalars(select(IssuedCredential)).one()
    assert credential.source is CredentialSource.CLAIM and campaign.claimed_count == 1


def test_seeding_the_demo_campaign_again_changes_nothing(world):
    first = seed_demo_claims(world.territory.slug)
    second = seed_demo_claims(world.territory.slug)
    assert first is not None and second is not None and first.id == second.id
    assert db.session.scalar(select(func.count(ClaimCampaign.id))) == 1
    assert db.session.scalar(select(func.count(IssuedCredential.id))) == 1


def test_no_territory_no_campaign(world):
    assert seed_demo_claims("nowhere") is None
