"""Demo credentials: several per organisation, one revoked, one expired, all genuine, seeded once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from badgehub.achievements import service as achievements
from badgehub.extensions import db
from badgehub.issuing.demo import RENEWABLE, REVOCATION_REASON, seed_demo_credentials
from badgehub.issuing.models import IssuedCredential
from badgehub.verification.pipeline import verify
from badgehub.verification.report import CheckStatus

LEARNER = "lucas.petit@example.net"


def test_demo_credentials_cover_every_organisation_and_the_unhappy_cases(world, resolver):
    issued = seed_demo_credentials(LEARNER, "Lucas Petit")
    assert {c.organisation_id for c in issued} == {world.a.id, world.b.id}
    assert {c.source.value for c in issued} == {"demo"}
    assert all(c.recipient_email.endswith("@example.net") for c in issued)
    learner = [c for c in issued if c.recipient_email == LEARNER]
    assert len(learner) >= 3
    [revoked] = [c for c in issued if c.is_revoked]
    assert (revoked.revocation_reason, revoked.revocation_note) == ("error", REVOCATION_REASON)
    now = dt.datetime.now(dt.UTC)
    [expired] = [c for c in issued if c.is_expired(now)]
    assert expired.achievement_id == world.workshop.id and expired.recipient_email == LEARNER
    for credential in issued:
        report = verify(credential.document_json, resolver, now)
        assert report.check("proof").status is CheckStatus.PASSED
        assert report.check("issuer_key").status is CheckStatus.PASSED
        assert report.verified is not (credential is revoked or credential is expired)
    assert verify(revoked.document_json, resolver, now).revoked is True
    assert verify(expired.document_json, resolver, now).expired is True


def test_seeding_again_issues_nothing_new(world):
    first = seed_demo_credentials(LEARNER)
    second = seed_demo_credentials(LEARNER)
    assert [c.id for c in second] == [c.id for c in first]
    assert db.session.scalar(select(func.count(IssuedCredential.id))) == len(first)
    revoked = select(func.count(IssuedCredential.id)).where(IssuedCredential.revoked_at.is_not(None))
    assert db.session.scalar(revoked) == 1


def test_without_a_badge_that_expires_one_is_made_for_the_demo(world):
    achievements.archive_achievement(world.workshop, world.owner_a)
    issued = seed_demo_credentials(LEARNER)
    [expired] = [c for c in issued if c.is_expired()]
    assert expired.achievement_version.name == RENEWABLE.name
    assert expired.organisation_id == world.a.id
